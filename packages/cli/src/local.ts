import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDeploymentConfig } from '../../../infra/config.ts';
import { startLocalStack, type LocalStack } from '../../../local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms, type SeedTarget } from '../../../local/seed.ts';
import { isRunning, processStart, readLocalState, readStateFile, stateDirMarker, stateFile, type LocalState } from './local-state.ts';
import { CliError, Exit } from './exit-codes.ts';

/** Publish a running stack's endpoints for the CLI's `--local` commands. */
export function writeLocalState(dir: string, stack: LocalStack): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const start = processStart(process.pid);
  const state: LocalState = {
    pid: process.pid,
    ...(start ? { processStart: start } : {}),
    startedAt: new Date().toISOString(),
    region: stack.config.region,
    account: stack.config.account,
    busName: stack.busName,
    endpoints: stack.endpoints,
    tables: stack.tables,
    queues: stack.queues,
    agentEnrolmentSecretArn: stack.agentEnrolmentSecretArn,
  };
  writeFileSync(stateDirMarker(dir), 'killswitch local stack state (`killswitch local reset` removes what is here)\n');
  // Written whole, then renamed: a reader never sees half a record.
  const temp = `${stateFile(dir)}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, stateFile(dir));
}

/** Refuses to start a second stack on one state dir; a record left by a process that is gone is replaced. */
function claimStateDir(dir: string, print: (line: string) => void): void {
  const existing = readStateFile(dir);
  if (existing && isRunning(existing))
    throw new CliError(
      `a local stack is already running on ${dir} (pid ${existing.pid}, since ${existing.startedAt}); stop it with \`npx killswitch local down\``,
      Exit.REFUSED,
    );
  if (existing) print(`replacing the record of a local stack that is gone (pid ${existing.pid})`);
}

/** The lock a starting or running stack holds on its state dir. */
export const lockFile = (dir: string) => join(dir, 'local.lock');

/**
 * Two `local up` started at once on one state dir (a script and a person, two terminals) would both
 * find no record and start two stacks on one DynamoDB data dir: the lock, created exclusively
 * (O_EXCL), lets one through. A lock whose process is gone (kill -9) is taken over; one still
 * being written (no holder yet, less than 10 s old) counts as held. Returns its release.
 */
export function lockStateDir(dir: string): () => void {
  const path = lockFile(dir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const start = processStart(process.pid);
      writeFileSync(fd, JSON.stringify({ pid: process.pid, ...(start ? { processStart: start } : {}) }));
      closeSync(fd);
      return () => {
        // Only our own lock: a stack that took over a stale one is not ours to release.
        try {
          if ((JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid === process.pid) rmSync(path, { force: true });
        } catch {
          // gone already
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    refuseIfLocked(dir);
    rmSync(path, { force: true });
  }
  throw new CliError(`cannot lock ${path}: another \`local up\` keeps taking it`, Exit.REFUSED);
}

/** Refuses when a live process holds the state dir's lock (or is writing it); a stale lock is left for `lockStateDir` to take over. */
function refuseIfLocked(dir: string): void {
  const path = lockFile(dir);
  const since = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  if (since === undefined) return;
  let holder: { pid: number; processStart?: string } | undefined;
  try {
    holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; processStart?: string };
  } catch {
    holder = undefined;
  }
  if (holder && isRunning(holder))
    throw new CliError(
      `a local stack is already running on ${dir} (pid ${holder.pid}, which holds ${path}); stop it with \`npx killswitch local down\``,
      Exit.REFUSED,
    );
  if (!holder && Date.now() - since < 10_000)
    throw new CliError(`a local stack is already starting on ${dir} (${path} is being written); try again in a moment`, Exit.REFUSED);
}

/** `local up`: the embedded stack in the foreground until Ctrl-C (or SIGTERM), DynamoDB data kept under `dir`. */
export async function localUp(dir: string, print: (line: string) => void, up?: (state: LocalState) => void): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const release = lockStateDir(dir);
  try {
    await serve(dir, print, up);
  } finally {
    release();
  }
}

async function serve(dir: string, print: (line: string) => void, up?: (state: LocalState) => void): Promise<void> {
  claimStateDir(dir, print);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const stack = await startLocalStack({ dataDir: join(dir, 'dynamo') });
  await seedPrograms(stack);
  writeLocalState(dir, stack);
  up?.(readStateFile(dir)!);
  print(`killswitch local stack is up (pid ${process.pid}; Ctrl-C or \`npx killswitch local down\` to stop)`);
  for (const line of describe(readStateFile(dir)!)) print(line);
  print('Try: npx killswitch status --local --as arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  print('stopping…');
  await stack.stop();
  rmSync(stateFile(dir), { force: true });
}

const describe = (state: LocalState): string[] => {
  const rows: [string, string][] = [...Object.entries(state.endpoints), ['bus', state.busName]];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
};

/** The log of a detached stack. */
export const logFile = (dir: string) => join(dir, 'local.log');

/**
 * `local up --detach`: the same stack in a process of its own, its output in `local.log`; returns
 * once that process has published its state (or says why it did not).
 */
export async function localUpDetached(dir: string, print: (line: string) => void, timeoutMs = 120_000): Promise<LocalState> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  refuseIfLocked(dir);
  claimStateDir(dir, print);
  // The child takes the lock itself (and refuses, exit 3, if another took it first); the poll below waits for its own pid's record.
  const log = openSync(logFile(dir), 'w');
  const entry = fileURLToPath(new URL('../../../bin/killswitch.js', import.meta.url));
  const child = spawn(process.execPath, [entry, '--state-dir', dir, 'local', 'up'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, KILLSWITCH_OUTPUT: 'table' },
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = readStateFile(dir);
    if (state && state.pid === child.pid && isRunning(state)) {
      child.unref();
      print(
        `killswitch local stack is up in the background (pid ${state.pid}; log ${logFile(dir)}; stop it with \`npx killswitch local down\`)`,
      );
      for (const line of describe(state)) print(line);
      return state;
    }
    if (exited !== undefined) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited === undefined) child.kill('SIGTERM');
  const tail = readFileSync(logFile(dir), 'utf8').trim().split('\n').slice(-5).join('\n');
  throw new CliError(
    `the local stack did not come up${exited === undefined ? ` within ${timeoutMs / 1000} s` : ` (exit ${exited})`}; ${logFile(dir)} ends with:\n${tail}`,
  );
}

/** `local down`: stops the stack recorded in `dir` (SIGTERM, then SIGKILL after `graceMs`) and removes its record. */
export async function localDown(dir: string, graceMs = 15_000): Promise<{ stopped: boolean; pid?: number; stale?: boolean }> {
  const state = readStateFile(dir);
  if (!state) return { stopped: false };
  if (!isRunning(state)) {
    rmSync(stateFile(dir), { force: true });
    return { stopped: false, pid: state.pid, stale: true };
  }
  if (state.pid === process.pid) throw new CliError('the local stack runs in this process; stop it with Ctrl-C', Exit.BAD_INPUT);
  // Signal only a process proven to be the one that wrote the record (its start time), where the platform can prove it.
  if (state.processStart === undefined && processStart(process.pid) !== undefined)
    throw new CliError(
      `${stateFile(dir)} names pid ${state.pid} without its start time: not signalling a process that may not be the stack's; stop it yourself, then run local down again`,
      Exit.REFUSED,
    );
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isRunning(state)) process.kill(state.pid, 'SIGKILL');
  // A zombie still answers kill(0) until its parent reaps it: give up waiting after a few seconds.
  for (const until = Date.now() + 5000; isRunning(state) && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  rmSync(stateFile(dir), { force: true });
  return { stopped: true, pid: state.pid };
}

/** Whether something accepts connections on an endpoint's host and port (within a second). */
function reachable(endpoint: string): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    // *.localhost names are loopback (RFC 6761), as fauxqs's queue hosts are.
    const loopback = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
    const socket = createConnection({ host: loopback ? '127.0.0.1' : url.hostname, port: Number(url.port || 80) });
    socket.setTimeout(1000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export interface LocalStatusView {
  stateDir: string;
  status: 'RUNNING' | 'STALE' | 'STOPPED';
  pid?: number;
  startedAt?: string;
  endpoints?: Record<string, { url: string; reachable: boolean }>;
  dataDir: string;
  hasData: boolean;
}

/** `local status`: whether a stack runs on `dir`, since when, and whether its endpoints answer. */
export async function localStatus(dir: string): Promise<LocalStatusView> {
  const state = readStateFile(dir);
  const dataDir = join(dir, 'dynamo');
  const base = { stateDir: dir, dataDir, hasData: existsSync(dataDir) };
  if (!state) return { ...base, status: 'STOPPED' };
  if (!isRunning(state)) return { ...base, status: 'STALE', pid: state.pid, startedAt: state.startedAt };
  const endpoints = Object.fromEntries(
    await Promise.all(
      Object.entries(state.endpoints).map(async ([name, url]) => [name, { url, reachable: await reachable(url) }] as const),
    ),
  );
  return { ...base, status: 'RUNNING', pid: state.pid, startedAt: state.startedAt, endpoints };
}

/** `local reset`: the local stack's data (DynamoDB tables) removed, so the next `local up` starts empty; refused while it runs. */
export function localReset(dir: string): { removed: string[] } {
  const state = readStateFile(dir);
  if (state && isRunning(state))
    throw new CliError(`the local stack is running on ${dir} (pid ${state.pid}); stop it first: npx killswitch local down`, Exit.REFUSED);
  if (!existsSync(stateDirMarker(dir)))
    throw new CliError(
      `${dir} is not a state dir of killswitch's local stack (no ${stateDirMarker(dir)}): nothing removed`,
      Exit.BAD_INPUT,
    );
  // A stack still starting holds the lock before it writes its record.
  refuseIfLocked(dir);
  const removed = [join(dir, 'dynamo'), stateFile(dir), logFile(dir), lockFile(dir)].filter((p) => existsSync(p));
  for (const path of removed) rmSync(path, { recursive: true, force: true });
  return { removed };
}

/** `local seed`: the sample program, its grants and employees, on the running local stack. */
export async function localSeed(
  dir: string,
  sizes: { employees: number; readers: number },
): Promise<{ programs: string[]; grants: number; subjects: number }> {
  const state = await readLocalState(dir);
  const target: SeedTarget = { endpoints: state.endpoints, tables: state.tables, config: loadDeploymentConfig() };
  const programs = await seedPrograms(target);
  const grants = await seedGrants(target, sizes.readers);
  const subjects = await seedDataSubjects(target, sizes.employees);
  return { programs, grants, subjects };
}
