#!/usr/bin/env node
// The installed killswitch CLI: the bundled build (a checkout runs the source through bin/killswitch.js).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
