/**
 * Pack an installable package and install the tarball into an empty project, offline.
 *
 * The install must not reach the registry (tests talk only to emulators on loopback), so the
 * empty project gets a lockfile: the tarball, plus the closure of its dependencies exactly as the
 * workspace's package-lock.json resolved them. `npm ci --offline` then installs it from npm's
 * cache, which the workspace's own `npm ci` filled.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Node's resolution over a lockfile's `packages`: from `from`, the nearest node_modules/<name>. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const key = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

export interface Installed {
  dir: string;
  /** Removes the temporary project and the tarball. */
  remove(): void;
  /** `npm ls --omit=dev --all --json`, flattened: every package name a user of this one gets. */
  productionPackages: string[];
}

/** Builds, packs and installs `packages/<name>` into a new temporary project; returns the project. */
export function packAndInstall(name: 'collector' | 'agent' | 'cli', extra: Record<string, string> = {}): Installed {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-packages.mjs'), name], { stdio: 'pipe' });
  const work = mkdtempSync(join(tmpdir(), `killswitch-pack-${name}-`));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: join(ROOT, 'packages', name), encoding: 'utf8' }),
  ) as { filename: string }[];
  const tarball = join(work, packed[0]!.filename);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
  };
  const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

  const project = join(work, 'consumer');
  mkdirSync(project);
  const wanted = { [manifest.name]: `file:../${packed[0]!.filename}`, ...extra };
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: wanted },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved: `file:../${packed[0]!.filename}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
    },
  };
  const queue: [string, string][] = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(extra)].map((d) => ['', d]);
  while (queue.length) {
    const [from, dep] = queue.shift()!;
    const key = resolveIn(rootLock.packages, from, dep);
    if (!key)
      throw new Error(`${dep} (needed by ${from || manifest.name}) is not in package-lock.json: add it to the workspace's dependencies`);
    if (packages[key]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = rootLock.packages[key]!;
    packages[key] = entry;
    const optionalPeers = Object.entries((entry.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>)
      .filter(([, m]) => m.optional)
      .map(([n]) => n);
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n));
    for (const d of [...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }), ...peers]) queue.push([key, d]);
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: wanted }, null, 2),
  );
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  try {
    execFileSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: project,
      stdio: 'pipe',
      encoding: 'utf8',
    });
  } catch (error) {
    const e = error as { stderr?: string };
    throw new Error(
      `npm ci --offline of ${manifest.name} failed (npm's cache is filled by the workspace's npm ci; run it first): ${e.stderr ?? error}`,
      { cause: error },
    );
  }
  const tree = JSON.parse(execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: project, encoding: 'utf8' })) as {
    dependencies?: Record<string, unknown>;
  };
  const names = new Set<string>();
  const walk = (deps: Record<string, unknown> | undefined) => {
    for (const [n, v] of Object.entries(deps ?? {})) {
      names.add(n);
      walk((v as { dependencies?: Record<string, unknown> }).dependencies);
    }
  };
  walk(tree.dependencies);
  return { dir: project, productionPackages: [...names].sort(), remove: () => rmSync(work, { recursive: true, force: true }) };
}

/** Runs `node <args>` in `cwd` with a clean environment: no tsx loader, no test runner's options. */
export function plainNode(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, args, {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: 'pipe',
    });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** What no user of an installable package may get: the CDK, the emulators, tsx, test and build tools. */
export const NOT_FOR_USERS = [
  /^aws-cdk/,
  /^constructs$/,
  /^cdk-nag$/,
  /^dynalite$/,
  /^fauxqs$/,
  /^tsx$/,
  /^vitest/,
  /^@vitest\//,
  /^fast-check$/,
  /^aws-sdk-client-mock/,
  /^esbuild$/,
  /^typescript$/,
  /^eslint/,
  /^@types\//,
];
