import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REJECT_REASONS, verifyStateDocument } from '#agent/document.ts';

/*
 * The signed state feed's test vectors (docs/state-feed/vectors/, docs/state-feed.md §8) through
 * its three reference verifiers: TypeScript (packages/agent, in-process), Python
 * (tools/state-feed/python/verify.py, on `cryptography` in the pinned .venv-tools/) and Go
 * (tools/state-feed/go, standard library only). Every verifier must decide every vector as its
 * `expect` says, and the three must decide every vector alike. Python and Go are required: a
 * machine without them fails here, saying how to install them; never a silent skip.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VECTORS_DIR = join(ROOT, 'docs/state-feed/vectors');
const PYTHON_VERIFIER = join(ROOT, 'tools/state-feed/python/verify.py');
const GO_VERIFIER = join(ROOT, 'tools/state-feed/go');
/** Go's first build of the verifier (and a cold build cache) is slow. */
const RUN_TIMEOUT_MS = 180_000;
const GO_INSTALL_HINT =
  'Install Go 1.22 or later and put `go` on the PATH: https://go.dev/dl/, or `apt-get install golang-go` where the distribution ships 1.22 or later ' +
  '(Ubuntu 24.04, Debian 13), `dnf install golang` (Fedora, RHEL), `brew install go` (macOS).';

/** The errors of docs/state-feed.md §3, in the order the checks run. */
const ERRORS = REJECT_REASONS;
const ACCEPTED_KEYS = ['valid', 'seq', 'allowed', 'status', 'version', 'validForSeconds'] as const;
const REJECTED_KEYS = ['valid', 'error'] as const;

interface Vector {
  name: string;
  description: string;
  jwks: { keys: object[] };
  token: string;
  programId: string;
  serverTime: number;
  highestSeq?: number;
  maxClockSkewSeconds?: number;
  scopes?: string[];
  expect: Record<string, unknown>;
}
type Line = Record<string, unknown>;

const FILES = readdirSync(VECTORS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const VECTORS = FILES.map((file) => ({ file, vector: JSON.parse(readFileSync(join(VECTORS_DIR, file), 'utf8')) as Vector }));

/** What a verifier decided, in the vector format: the accepted members, or the error. */
function decision(result: Line): Line {
  return Object.fromEntries((result.valid === true ? ACCEPTED_KEYS : REJECTED_KEYS).map((k) => [k, result[k]]));
}
const pick = (result: Line, keys: string[]): Line => Object.fromEntries(keys.map((k) => [k, result[k]]));

async function typescript(v: Vector): Promise<Line> {
  const result = await verifyStateDocument(v.token, v.jwks, {
    programId: v.programId,
    serverTime: v.serverTime,
    highestSeq: v.highestSeq,
    maxClockSkewSeconds: v.maxClockSkewSeconds,
    scopes: v.scopes,
  });
  return { name: v.name, ...result };
}

function check(what: string, run: SpawnSyncReturns<string>, hint = ''): string {
  if (run.error || run.status !== 0) {
    const why = run.error ? String(run.error) : `exit ${run.status ?? run.signal}`;
    throw new Error(`${what} failed (${why}):\n${(run.stderr || run.stdout || '').trim()}${hint ? `\n${hint}` : ''}`);
  }
  return run.stdout;
}

/** One JSON object per line, indexed by the vector's name. */
function linesByName(what: string, stdout: string): Map<string, Line> {
  const lines = new Map<string, Line>();
  for (const text of stdout.split('\n').filter((l) => l.trim())) {
    const line = JSON.parse(text) as Line;
    if (typeof line.name !== 'string' || lines.has(line.name)) throw new Error(`${what} printed a line without a name, or twice: ${text}`);
    lines.set(line.name, line);
  }
  return lines;
}

let python: Map<string, Line>;
let go: Map<string, Line>;

beforeAll(() => {
  const tools = spawnSync(process.execPath, [join(ROOT, 'scripts/python-tools.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  const { bin } = JSON.parse(check('scripts/python-tools.mjs', tools).trim().split('\n').pop()!) as { bin: string };
  const interpreter = join(bin, process.platform === 'win32' ? 'python.exe' : 'python');
  python = linesByName(
    'the Python verifier',
    check(
      'the Python verifier (tools/state-feed/python/verify.py)',
      spawnSync(interpreter, ['-I', PYTHON_VERIFIER, VECTORS_DIR], { cwd: ROOT, encoding: 'utf8', timeout: RUN_TIMEOUT_MS }),
    ),
  );

  const version = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.error || version.status !== 0)
    throw new Error(
      `the Go reference verifier needs Go, and \`go version\` failed (${version.error ?? version.stderr}).\n${GO_INSTALL_HINT}`,
    );
  // Offline and self-contained: the verifier has no dependencies, nothing is ever downloaded.
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOWORK: 'off' };
  for (const [name, dir] of [
    ['GOCACHE', 'killswitch-go-cache'],
    ['GOPATH', 'killswitch-go-path'],
  ] as const) {
    if (!env[name]) {
      env[name] = join(tmpdir(), dir);
      mkdirSync(env[name], { recursive: true });
    }
  }
  go = linesByName(
    'the Go verifier',
    check(
      'the Go verifier (go run . in tools/state-feed/go)',
      spawnSync('go', ['run', '.', VECTORS_DIR], { cwd: GO_VERIFIER, env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS }),
      GO_INSTALL_HINT,
    ),
  );
}, 20 * 60_000);

describe('the state-feed test vectors (docs/state-feed/vectors/)', () => {
  it('are at least 12, named uniquely, each with a well-formed expect, covering every error of §3 and both decisions', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(12);
    const isInt = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n);
    const problems: string[] = [];
    const names = new Set<string>();
    for (const { file, vector: v } of VECTORS) {
      const bad = (what: string) => problems.push(`${file}: ${what}`);
      if (typeof v.name !== 'string' || !v.name) bad('name is not a non-empty string');
      else if (names.has(v.name)) bad(`name ${v.name} is not unique`);
      names.add(v.name);
      if (typeof v.description !== 'string' || !v.description) bad('description is not a non-empty string');
      if (typeof v.token !== 'string') bad('token is not a string');
      if (typeof v.jwks !== 'object' || v.jwks === null || !Array.isArray(v.jwks.keys)) bad('jwks is not a JWK set');
      if (typeof v.programId !== 'string') bad('programId is not a string');
      if (!isInt(v.serverTime)) bad('serverTime is not an integer');
      if (v.highestSeq !== undefined && !(isInt(v.highestSeq) && v.highestSeq >= 0)) bad('highestSeq is not an integer >= 0');
      if (v.maxClockSkewSeconds !== undefined && !(isInt(v.maxClockSkewSeconds) && v.maxClockSkewSeconds >= 0))
        bad('maxClockSkewSeconds is not an integer >= 0');
      if (v.scopes !== undefined && !(Array.isArray(v.scopes) && v.scopes.every((s) => typeof s === 'string')))
        bad('scopes is not an array of strings');
      const e = v.expect as Line | undefined;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) {
        bad('expect is not an object');
        continue;
      }
      const keys = Object.keys(e).sort();
      if (e.valid === true) {
        if (keys.join() !== [...ACCEPTED_KEYS].sort().join()) bad(`an accepted expect has exactly ${ACCEPTED_KEYS.join(', ')}`);
        if (!isInt(e.seq) || (e.seq as number) < 0) bad('expect.seq is not an integer >= 0');
        if (e.status !== 'ACTIVE' && e.status !== 'PAUSED') bad('expect.status is not ACTIVE or PAUSED');
        if (e.allowed !== (e.status === 'ACTIVE')) bad('expect.allowed is not (status is ACTIVE)');
        if (!isInt(e.version) || (e.version as number) < 1) bad('expect.version is not an integer >= 1');
        if (!isInt(e.validForSeconds) || (e.validForSeconds as number) < 1 || (e.validForSeconds as number) > 3600)
          bad('expect.validForSeconds is not an integer in [1, 3600]');
      } else if (e.valid === false) {
        if (keys.join() !== [...REJECTED_KEYS].sort().join()) bad(`a rejected expect has exactly ${REJECTED_KEYS.join(', ')}`);
        if (!(ERRORS as readonly unknown[]).includes(e.error)) bad(`expect.error ${String(e.error)} is not an error of §3`);
      } else bad('expect.valid is not a boolean');
    }
    expect(problems).toEqual([]);
    const outcomes = new Set(VECTORS.map(({ vector: v }) => (v.expect.valid ? v.expect.status : v.expect.error)));
    expect(
      [...ERRORS, 'ACTIVE', 'PAUSED'].filter((o) => !outcomes.has(o)),
      'outcomes no vector has',
    ).toEqual([]);
  });

  it.each(VECTORS.map(({ file, vector }) => [file, vector] as const))(
    '%s: TypeScript, Python and Go decide as expect says',
    async (_file, v) => {
      const keys = Object.keys(v.expect);
      const ts = await typescript(v);
      const py = python.get(v.name);
      const gov = go.get(v.name);
      expect(py, 'the Python verifier printed no line for this vector').toBeDefined();
      expect(gov, 'the Go verifier printed no line for this vector').toBeDefined();
      expect({ typescript: pick(ts, keys), python: pick(py!, keys), go: pick(gov!, keys) }).toEqual({
        typescript: v.expect,
        python: v.expect,
        go: v.expect,
      });
    },
  );

  it('TypeScript, Python and Go reach the same decision on every vector', async () => {
    const disagreements: Line[] = [];
    for (const { file, vector: v } of VECTORS) {
      const decided = {
        typescript: decision(await typescript(v)),
        python: decision(python.get(v.name) ?? { valid: 'no line' }),
        go: decision(go.get(v.name) ?? { valid: 'no line' }),
      };
      const [first, ...rest] = Object.values(decided).map((d) => JSON.stringify(d));
      if (rest.some((d) => d !== first)) disagreements.push({ file, ...decided });
    }
    expect(disagreements).toEqual([]);
    expect([...python.keys()].sort(), 'the Python verifier decided exactly the vectors').toEqual(
      VECTORS.map(({ vector: v }) => v.name).sort(),
    );
    expect([...go.keys()].sort(), 'the Go verifier decided exactly the vectors').toEqual(VECTORS.map(({ vector: v }) => v.name).sort());
  });
});
