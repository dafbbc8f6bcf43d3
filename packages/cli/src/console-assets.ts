import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import type { ConsoleAssets } from './console/server.ts';
import { CliError, Exit } from './exit-codes.ts';

// Directly under src/ (like checkout.ts): the bundle sits at the same depth (dist/), so
// `./console/web/` is src/console/web/ in a checkout and dist/console/web/ in the installed CLI.
const WEB = new URL('./console/web/', import.meta.url);

/**
 * The console's page, script and style, all served by the console itself (no CDN): the installed
 * CLI carries the built script (scripts/build-packages.mjs); a checkout bundles the TypeScript
 * source with esbuild, a development dependency, when the console starts.
 */
export async function consoleAssets(): Promise<ConsoleAssets> {
  const read = (name: string) => readFileSync(new URL(name, WEB), 'utf8');
  const html = read('index.html');
  const css = read('app.css');
  const icon = read('icon.svg');
  if (existsSync(new URL('app.js', WEB))) return { html, css, icon, js: read('app.js') };
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new CliError(
      'the console page is not built: run `npm run build` (scripts/build-packages.mjs cli), or `npm ci` in a checkout',
      Exit.FAILURE,
    );
  }
  const out = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('app.ts', WEB))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return { html, css, icon, js: out.outputFiles[0]!.text };
}
