#!/usr/bin/env node
// The killswitch CLI. The project runs TypeScript directly (tsx), so this shim registers the
// loader and hands over to packages/cli/src/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('#cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
