#!/usr/bin/env node
// The console's browser test drives a real Chromium (Playwright's playwright-core, which brings no
// browser of its own). This finds one, or installs Debian's `chromium` package where it can, and
// prints one line of JSON: {"executable": …, "version": …}.
//
// It never skips: where Chromium is missing and cannot be installed (not root, not apt), it fails
// and says how to get it. test/integration/console-browser.test.ts runs it first.
//
//   node scripts/chromium.mjs              find or install, print {"executable", "version"}
//   KILLSWITCH_CHROMIUM=/path/to/chrome …  use that executable (Chromium or Chrome)
//
// Pinning: Debian's archive serves one Chromium at a time (security updates replace it), so the
// exact version cannot be pinned; what is pinned is the least major version this project was
// tested with (MIN_MAJOR) and playwright-core's own version (package-lock.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOCK = join(ROOT, '.chromium-install.lock');
/** Chromium 156 (Debian, 2026) is what the console's test was written against; older ones lack nothing it uses back to 120. */
const MIN_MAJOR = 120;
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
const HINT =
  'Install Chromium: `apt-get install chromium` (Debian, Ubuntu), `dnf install chromium` (Fedora), `brew install --cask chromium` (macOS); ' +
  'or point KILLSWITCH_CHROMIUM at a Chromium or Chrome executable.';

function fail(message) {
  console.error(`chromium: ${message}`);
  process.exit(1);
}

function versionOf(executable) {
  const probe = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0) return undefined;
  const match = /(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(probe.stdout);
  return match ? { text: match[0], major: Number(match[1]) } : undefined;
}

function found() {
  const candidates = process.env.KILLSWITCH_CHROMIUM ? [process.env.KILLSWITCH_CHROMIUM] : CANDIDATES;
  for (const executable of candidates) {
    if (!existsSync(executable)) continue;
    const version = versionOf(executable);
    if (!version) continue;
    if (version.major < MIN_MAJOR)
      fail(`${executable} is Chromium ${version.text}; the console's test needs ${MIN_MAJOR} or later. ${HINT}`);
    return { executable, version: version.text };
  }
  if (process.env.KILLSWITCH_CHROMIUM)
    fail(`KILLSWITCH_CHROMIUM=${process.env.KILLSWITCH_CHROMIUM} does not run (\`--version\` failed). ${HINT}`);
  return undefined;
}

function install() {
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' });
  if (apt.status !== 0) fail(`no Chromium found (${CANDIDATES.join(', ')}) and no apt-get to install it. ${HINT}`);
  if (process.getuid?.() !== 0) fail(`no Chromium found, and installing Debian's package needs root. ${HINT}`);
  // One installer at a time (parallel test runs); a lock older than 15 minutes is from a dead run.
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (found()) return;
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 15 * 60_000)
        rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) fail(`${LOCK} is held by another install; remove it if no install is running`);
      else spawnSync('sleep', ['2']);
    }
  }
  try {
    console.error("chromium: installing Debian's chromium package (apt-get; once per machine)…");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', '--no-install-recommends', 'chromium'],
    ]) {
      const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 15 * 60_000 });
      if (run.status !== 0) fail(`apt-get ${args.join(' ')} failed (exit ${run.status ?? run.signal}). ${HINT}`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const browser = found() ?? (install(), found());
if (!browser) fail(`apt-get installed chromium, but none of ${CANDIDATES.join(', ')} runs. ${HINT}`);
console.log(JSON.stringify(browser));
