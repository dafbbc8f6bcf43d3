#!/usr/bin/env node
// The installed killswitch CLI: the bundled build (a checkout runs the source through bin/killswitch.js).
// The AWS SDK warns on every run that its releases after January 2027 need Node.js 22: operators
// get told once, here (the package's engines), not on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/main.js');

process.exitCode = await main(process.argv.slice(2));
