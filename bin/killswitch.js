#!/usr/bin/env node
// The killswitch CLI. The project runs TypeScript directly (tsx), so this shim registers the
// loader and hands over to packages/cli/src/main.ts.
import { register } from 'tsx/esm/api';

register();
// The AWS SDK's Node.js-version notice is for the platform team (engines), not every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('#cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
