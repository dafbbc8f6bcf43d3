#!/usr/bin/env node
// Builds the installable packages: `node scripts/build-packages.mjs [collector] [agent] [cli]` (all by default).
//   collector, agent: TypeScript → ESM JavaScript + .d.ts (tsc), nothing bundled: its dependencies stay its own.
//   cli: one ESM bundle of the CLI and the product code it uses (esbuild); npm packages stay external
//   (they are the CLI's dependencies), and the local runtime stays out: it comes with a checkout.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ['collector', 'agent', 'cli'];

/** TypeScript → ESM JavaScript + .d.ts, nothing bundled: the package's dependencies stay its own. */
function tscBuild(name) {
  rmSync(`${root}packages/${name}/dist`, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}packages/${name}/tsconfig.build.json`], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`${name}: tsc failed`);
}

const builders = {
  collector: () => tscBuild('collector'),
  agent: () => tscBuild('agent'),
  async cli() {
    rmSync(`${root}packages/cli/dist`, { recursive: true, force: true });
    await build({
      entryPoints: [`${root}packages/cli/src/main.ts`],
      outdir: `${root}packages/cli/dist`,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
      plugins: [
        {
          name: 'local-runtime-stays-out',
          setup(b) {
            // Imports of the local runtime and the CDK app stay as written: present in a checkout, absent when installed.
            b.onResolve({ filter: /\/(local|infra)\// }, (args) => ({ path: args.path, external: true }));
          },
        },
      ],
    });
    // The console's page: its script bundled for the browser, its page, style and icon copied (served by the console, no CDN).
    const web = `${root}packages/cli/src/console/web`;
    const out = `${root}packages/cli/dist/console/web`;
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: [`${web}/app.ts`],
      outfile: `${out}/app.js`,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      logLevel: 'warning',
    });
    for (const file of ['index.html', 'app.css', 'icon.svg']) copyFileSync(`${web}/${file}`, `${out}/${file}`);
  },
};

for (const name of wanted) {
  if (!builders[name]) throw new Error(`unknown package "${name}" (collector, agent, cli)`);
  await builders[name]();
  console.log(`built packages/${name}`);
}
