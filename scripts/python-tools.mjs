#!/usr/bin/env node
// AWS's own template checks (cfn-lint, checkov) and moto's server are Python tools. This installs them, pinned with
// hashes (tools/python/requirements.txt), into a project-local virtual environment, .venv-tools/,
// and prints where they are as one line of JSON. It is idempotent: a venv whose stamp matches the
// requirements file and the interpreter is reused as it is; otherwise it is built anew.
//
// It never skips: without a suitable python3 (and its venv module) it fails and says what to
// install. test/infra/template-checks.test.ts runs it the first time the tools are needed.
//
//   node scripts/python-tools.mjs           ensure the venv, print {"bin": …, "cfnLint": …, …}
//   KILLSWITCH_PYTHON=/path/to/python3 …    use that interpreter
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const REQUIREMENTS = join(ROOT, 'tools/python/requirements.txt');
const VENV = join(ROOT, '.venv-tools');
const STAMP = join(VENV, '.killswitch-requirements.sha256');
const LOCK = join(ROOT, '.venv-tools.lock');
/**
 * The lock is compiled for Python 3.11 (and installs on 3.11 to 3.13); checkov's dependencies
 * (numpy 2.4 among them) need 3.11 or later.
 */
const MIN_PYTHON = [3, 11];
const INSTALL_HINT =
  'Install Python 3.11 or later with its venv module: `apt-get install python3 python3-venv` (Debian 12 or later, Ubuntu 24.04 or later); ' +
  'where python3 is older, `apt-get install python3.11 python3.11-venv`; `dnf install python3.11` (Fedora, RHEL); `brew install python@3.11` (macOS). ' +
  'Or point KILLSWITCH_PYTHON at such an interpreter.';

function fail(message) {
  console.error(`python-tools: ${message}`);
  process.exit(1);
}

/** The first interpreter that is recent enough and can create a venv with pip (ensurepip). */
function findPython() {
  // 3.11 first: the version the lock was compiled for.
  const candidates = process.env.KILLSWITCH_PYTHON
    ? [process.env.KILLSWITCH_PYTHON]
    : ['python3.11', 'python3', 'python3.12', 'python3.13', 'python'];
  const seen = [];
  for (const exe of candidates) {
    const probe = spawnSync(
      exe,
      [
        '-c',
        'import sys, json\ntry:\n import venv, ensurepip\n ok = True\nexcept ImportError:\n ok = False\nprint(json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable, "venv": ok}))',
      ],
      { encoding: 'utf8' },
    );
    if (probe.error || probe.status !== 0) continue;
    let info;
    try {
      info = JSON.parse(probe.stdout.trim());
    } catch {
      continue;
    }
    const [major, minor] = info.version;
    const recent = major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
    seen.push(
      `${exe} is Python ${info.version.join('.')}${recent ? '' : ' (too old)'}${info.venv ? '' : ' without the venv/ensurepip module'}`,
    );
    if (recent && info.venv) return info;
  }
  fail(
    `no usable Python found for cfn-lint, checkov and moto (needed: Python >= ${MIN_PYTHON.join('.')} with venv and ensurepip)` +
      `${seen.length ? `; found: ${seen.join('; ')}` : `; none of ${candidates.join(', ')} runs`}.\n${INSTALL_HINT}`,
  );
}

function run(cmd, args, what) {
  const result = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
  });
  if (result.error || result.status !== 0) {
    fail(
      `${what} failed (${cmd} ${args.join(' ')}):\n${(result.stderr || result.stdout || String(result.error)).trim().split('\n').slice(-30).join('\n')}${/venv|ensurepip/.test(result.stderr ?? '') ? `\n${INSTALL_HINT}` : ''}`,
    );
  }
  return result.stdout;
}

/** One builder at a time (parallel test runs); a lock older than 15 minutes is from a dead run. */
function withLock(fn) {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs > 15 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) fail(`${LOCK} is held by another install; remove it if no install is running`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function ensureTools() {
  if (!existsSync(REQUIREMENTS)) fail(`${REQUIREMENTS} is missing`);
  const python = findPython();
  const stamp = createHash('sha256')
    .update(readFileSync(REQUIREMENTS))
    .update(`\0${python.version.slice(0, 2).join('.')}\0${python.executable}`)
    .digest('hex');
  const bin = join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
  const tools = { cfnLint: join(bin, 'cfn-lint'), checkov: join(bin, 'checkov'), motoServer: join(bin, 'moto_server') };
  const current = () =>
    existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === stamp && Object.values(tools).every((t) => existsSync(t));
  let installed = false;
  if (!current()) {
    withLock(() => {
      if (current()) return; // another run built it while we waited
      console.error(
        `python-tools: creating ${VENV} with Python ${python.version.join('.')} and installing tools/python/requirements.txt (hash-checked)…`,
      );
      run(python.executable, ['-m', 'venv', '--clear', VENV], 'creating the virtual environment');
      run(
        join(bin, 'python'),
        // Wheels only (no build runs), every file checked against its hash, and pip's resolver checks
        // that the lock holds every dependency this interpreter needs.
        ['-m', 'pip', 'install', '--quiet', '--require-hashes', '--only-binary', ':all:', '-r', REQUIREMENTS],
        'installing the pinned tools',
      );
      writeFileSync(STAMP, `${stamp}\n`);
      installed = true;
    });
  }
  return { bin, ...tools, python: python.version.join('.'), installed };
}

const result = ensureTools();
console.log(JSON.stringify(result));
