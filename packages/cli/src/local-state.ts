import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './exit-codes.ts';
import type { LocalStack } from '../../../local/stack.ts';

/** What `local up` publishes for the other CLI commands (`--local`). */
export interface LocalState {
  /** The process serving the stack: the state is stale once it is gone. */
  pid: number;
  /** That process's start time as the kernel has it (Linux), so a reused pid is not taken for it. */
  processStart?: string;
  startedAt: string;
  region: string;
  account: string;
  busName: string;
  endpoints: LocalStack['endpoints'];
  tables: { programState: string; grants: string; ledger: string; dataSubjects: string; acks: string };
  queues: Record<string, string>;
  /** The agents' enrolment master secret on the local Secrets Manager. */
  agentEnrolmentSecretArn?: string;
}

export const stateFile = (dir: string) => join(dir, 'local.json');

/**
 * Where `local up` keeps its state when neither --state-dir nor KILLSWITCH_STATE_DIR says: per
 * user, whatever the current directory — $XDG_STATE_HOME/killswitch, else ~/.local/state/killswitch
 * (%LOCALAPPDATA%\killswitch on Windows).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'killswitch');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'killswitch');
}

/** A state dir killswitch made (the marker `local reset` requires before it deletes anything). */
export const stateDirMarker = (dir: string) => join(dir, '.killswitch-state');

/** A process's start time (field 22 of /proc/<pid>/stat, clock ticks since boot); undefined where there is no /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process a state file names still runs, and is that process, not a reuse of its pid
 * (its start time, where /proc has it). `local down` signals it; the state dir is the user's own
 * (0700), so only the user can name a process there.
 */
export function isRunning(state: Pick<LocalState, 'pid' | 'processStart'>): boolean {
  // kill(0) and kill(-1) address process groups, never one process: such a record names nothing.
  if (!Number.isInteger(state.pid) || state.pid <= 1) return false;
  try {
    process.kill(state.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(state.pid);
  return state.processStart === undefined || now === undefined || now === state.processStart;
}

/** The state file as written, or undefined when there is none (or it cannot be read as one). */
export function readStateFile(dir: string): LocalState | undefined {
  try {
    const state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LocalState;
    return Number.isInteger(state.pid) && state.pid > 1 && typeof state.endpoints === 'object' ? state : undefined;
  } catch {
    return undefined;
  }
}

/** An AWS SDK client's configuration for one of the local stack's endpoints (it accepts any credentials). */
export const localClientConfig = (state: LocalState, endpoint: string) => ({
  region: state.region,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** The running local stack's state, for `--local` commands; a clear error when none runs or the file is stale. */
export async function readLocalState(dir: string): Promise<LocalState> {
  const state = readStateFile(dir);
  if (!state) throw new CliError(`no local stack is running (no ${stateFile(dir)}); start one with: npx killswitch local up`);
  if (!isRunning(state))
    throw new CliError(
      `the local stack recorded in ${stateFile(dir)} is gone (pid ${state.pid} is not running; killed?): start it again with \`npx killswitch local up\`, or clear the record with \`npx killswitch local down\``,
    );
  // The emulators take any credentials; the region is the stack's. (No CLI command talks to the
  // fauxqs queues, whose *.localhost hosts would need its DNS interception: it stays unloaded.)
  process.env.AWS_REGION = state.region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return state;
}
