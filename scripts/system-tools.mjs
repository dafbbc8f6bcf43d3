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
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  let tooOld;
  for (const executable of chosen ? [chosen] : tool.candidates) {
    if (!existsSync(executable)) continue;
    const version = versionOf(tool, executable);
    if (!version) continue;
    const [major, minor] = tool.min;
    if (version.major < major || (version.major === major && version.minor < minor)) {
      tooOld ??= `${executable} is ${name} ${version.text}; the tests need ${major}.${minor} or later`;
      continue;
    }
    return { executable, version: version.text };
  }
  if (chosen)
    fail(`${tool.env}=${chosen} ${tooOld ? `is too old (${tooOld})` : 'does not run (`--version` failed)'}. Install ${name}: ${tool.hint}`);
  if (tooOld && process.getuid?.() !== 0) fail(`${tooOld}. Install a newer one: ${tool.hint}`);
  return undefined;
}

/** The lock's holder, if it is a live process; a lock whose process is gone, or older than an hour, is from a dead run. */
function lockHolder() {
  const since = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
  if (since === undefined || Date.now() - since > 60 * 60_000) return undefined;
  let pid;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    // No pid yet: being written, unless it has been a while.
    return Date.now() - since < 10_000 ? -1 : undefined;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return error?.code === 'EPERM' ? pid : undefined;
  }
}

/** One `apt-get install` for every missing tool, one installer at a time (the lock names its process). */
function install(names) {
  const hints = names.map((n) => `${n}: ${TOOLS[n].hint}`).join(' ');
  if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0)
    fail(`not found: ${names.join(', ')}, and no apt-get to install them. ${hints}`);
  if (process.getuid?.() !== 0) fail(`not found: ${names.join(', ')}; installing Debian's packages needs root. ${hints}`);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      if (names.every((n) => found(n))) return;
      if (lockHolder() === undefined) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline)
        fail(`${LOCK} is held by another install (pid in ${join(LOCK, 'pid')}); remove it if no install is running`);
      else spawnSync('sleep', ['2']);
    }
  }
  // Released however this ends (fail() exits the process).
  process.on('exit', () => rmSync(LOCK, { recursive: true, force: true }));
  // Another run may have installed them while this one waited.
  const still = names.filter((n) => !found(n));
  if (!still.length) return;
  const packages = still.map((n) => TOOLS[n].package);
  console.error(`system-tools: installing Debian's ${packages.join(', ')} (apt-get; once per machine)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['-o', 'DPkg::Lock::Timeout=600', 'update', '-qq'],
    ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 15 * 60_000 });
    if (run.status !== 0) fail(`apt-get ${args.slice(2).join(' ')} failed (exit ${run.status ?? run.signal}). ${hints}`);
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
