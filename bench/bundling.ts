import type { BuildOptions, Metafile } from 'esbuild';
import { FUNCTION_BUNDLING } from '#infra/constructs/killswitch-function.ts';

/**
 * esbuild's options for a function bundle, from what KillSwitchFunction gives NodejsFunction
 * (FUNCTION_BUNDLING): the cold-start benchmark and test/infra/bundles.test.ts build with these.
 */
export const FUNCTION_ESBUILD: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: FUNCTION_BUNDLING.target,
  minify: FUNCTION_BUNDLING.minify,
  sourcemap: FUNCTION_BUNDLING.sourceMap,
  sourcesContent: FUNCTION_BUNDLING.sourcesContent,
  mainFields: FUNCTION_BUNDLING.mainFields,
  external: FUNCTION_BUNDLING.externalModules,
  banner: { js: FUNCTION_BUNDLING.banner },
  metafile: true,
  logLevel: 'silent',
};

/** The AWS SDK client packages (`client-sns`, …) a bundle holds, from its metafile, sorted. */
export function sdkClientsOf(metafile: Metafile): string[] {
  const clients = Object.keys(metafile.inputs).map((i) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(i)?.[1]);
  return [...new Set(clients.filter((c): c is string => !!c))].sort();
}
