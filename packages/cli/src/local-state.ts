import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromCheckout } from './checkout.ts';
import { CliError } from './exit-codes.ts';
import type { LocalStack } from '../../../local/stack.ts';

/** What `local up` publishes for the other CLI commands (`--local`). */
export interface LocalState {
  pid: number;
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

/** An AWS SDK client's configuration for one of the local stack's endpoints (it accepts any credentials). */
export const localClientConfig = (state: LocalState, endpoint: string) => ({
  region: state.region,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

export async function readLocalState(dir: string): Promise<LocalState> {
  let state: LocalState;
  try {
    state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LocalState;
  } catch {
    throw new CliError(`no local stack is running (no ${stateFile(dir)}); start one with: npx killswitch local up`);
  }
  // fauxqs queue URLs use *.localhost hosts; resolve them to loopback in this process. The
  // emulators take any credentials; the region is the stack's.
  (await fromCheckout('--local', () => import('fauxqs'))).interceptLocalhostDns();
  process.env.AWS_REGION = state.region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return state;
}
