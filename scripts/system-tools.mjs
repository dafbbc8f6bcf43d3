#!/usr/bin/env node
// Programs some tests drive for real, which npm cannot bring: Chromium (the console's browser test,
// through playwright-core, which brings no browser of its own) and the zsh and fish shells (the
// CLI's completion scripts, run in the shells they are for). This finds each one asked for, or
// installs its Debian package where it can, and prints one line of JSON: {"<tool>": {"executable", "version"}, …}.
//
// It never skips: where a tool is missing and cannot be installed (not root, no apt), it fails and
// says how to get it. The tests that need a tool run it first (test/support/system-tools.ts).
//
//   node scripts/system-tools.mjs chromium zsh fish    find or install each, print where they are
//   KILLSWITCH_CHROMIUM=/path/to/chrome …               use that executable (also KILLSWITCH_ZSH, KILLSWITCH_FISH)
//
// Pinning: Debian's archive serves one version of a package at a time (security updates replace
// it), so exact versions cannot be pinned; what is pinned is the least version each test was
// written against (min) and playwright-core's own version (package-lock.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOCK = join(ROOT, '.system-tools.lock');

const TOOLS = {
  // Chromium 156 (Debian, 2026) is what the console's test was written against; it uses nothing newer than 120 has.
  chromium: {
    package: 'chromium',
    env: 'KILLSWITCH_CHROMIUM',
    candidates: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'],
    version: /(\d+)\.(\d+)\.\d+\.\d+/,
    min: [120, 0],
    hint: '`apt-get install chromium` (Debian, Ubuntu), `dnf install chromium` (Fedora), `brew install --cask chromium` (macOS); or point KILLSWITCH_CHROMIUM at a Chromium or Chrome executable.',
  },
  zsh: {
    package: 'zsh',
    env: 'KILLSWITCH_ZSH',
    candidates: ['/usr/bin/zsh', '/bin/zsh', '/usr/local/bin/zsh', '/opt/homebrew/bin/zsh'],
    version: /zsh (\d+)\.(\d+)/,
    min: [5, 0],
    hint: '`apt-get install zsh`, `dnf install zsh`, `brew install zsh`; or point KILLSWITCH_ZSH at a zsh.',
  },
  fish: {
    package: 'fish',
    env: 'KILLSWITCH_FISH',
    candidates: ['/usr/bin/fish', '/usr/local/bin/fish', '/opt/homebrew/bin/fish'],
    version: /fish, version (\d+)\.(\d+)/,
    min: [3, 0],
    hint: '`apt-get install fish`, `dnf install fish`, `brew install fish`; or point KILLSWITCH_FISH at a fish.',
  },
};

function fail(message) {
  console.error(`system-tools: ${message}`);
  process.exit(1);
}

function versionOf(tool, executable) {
  const probe = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0) return undefined;
  const match = tool.version.exec(probe.stdout);
  return match ? { text: match[0].replace(/^\D+/, ''), major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

function found(name) {
  const tool = TOOLS[name];
  const chosen = process.env[tool.env];
  for (const executable of chosen ? [chosen] : tool.candidates) {
    if (!existsSync(executable)) continue;
    const version = versionOf(tool, executable);
    if (!version) continue;
    const [major, minor] = tool.min;
    if (version.major < major || (version.major === major && version.minor < minor))
      fail(`${executable} is ${name} ${version.text}; the tests need ${major}.${minor} or later. Install it: ${tool.hint}`);
    return { executable, version: version.text };
  }
  if (chosen) fail(`${tool.env}=${chosen} does not run (\`--version\` failed). Install ${name}: ${tool.hint}`);
  return undefined;
}

/** One `apt-get install` for every missing tool, one installer at a time (a lock older than 15 minutes is from a dead run). */
function install(names) {
  const hints = names.map((n) => `${n}: ${TOOLS[n].hint}`).join(' ');
  if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0)
    fail(`not found: ${names.join(', ')}, and no apt-get to install them. ${hints}`);
  if (process.getuid?.() !== 0) fail(`not found: ${names.join(', ')}; installing Debian's packages needs root. ${hints}`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (names.every((n) => found(n))) return;
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 15 * 60_000)
        rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) fail(`${LOCK} is held by another install; remove it if no install is running`);
      else spawnSync('sleep', ['2']);
    }
  }
  try {
    const packages = names.map((n) => TOOLS[n].package);
    console.error(`system-tools: installing Debian's ${packages.join(', ')} (apt-get; once per machine)…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', '--no-install-recommends', ...packages],
    ]) {
      const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 15 * 60_000 });
      if (run.status !== 0) fail(`apt-get ${args.join(' ')} failed (exit ${run.status ?? run.signal}). ${hints}`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !TOOLS[n]);
if (!names.length || unknown.length)
  fail(`name the tools to find: ${Object.keys(TOOLS).join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
const missing = names.filter((n) => !found(n));
if (missing.length) install(missing);
const result = {};
for (const name of names) {
  const tool = found(name);
  if (!tool)
    fail(
      `apt-get installed ${TOOLS[name].package}, but none of ${TOOLS[name].candidates.join(', ')} runs. Install it: ${TOOLS[name].hint}`,
    );
  result[name] = tool;
}
console.log(JSON.stringify(result));
