import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { interceptLocalhostDns } from 'fauxqs';
import { loadDeploymentConfig } from '#infra/config.ts';
import { startLocalStack, type LocalStack } from '#infra/local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms, type SeedTarget } from '#infra/local/seed.ts';
import { CliError } from './exit-codes.ts';

/** What `local up` publishes for the other CLI commands (`--local`). */
export interface LocalState {
  pid: number;
  startedAt: string;
  region: string;
  account: string;
  busName: string;
  endpoints: { dynamodb: string; sns: string; sqs: string; eventbridge: string; lambda: string; operatorUrl: string; sts: string };
  tables: SeedTarget['tables'];
  queues: Record<string, string>;
}

const stateFile = (dir: string) => join(dir, 'local.json');

export function readLocalState(dir: string): LocalState {
  let state: LocalState;
  try {
    state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LocalState;
  } catch {
    throw new CliError(`no local stack is running (no ${stateFile(dir)}); start one with: npx killswitch local up`);
  }
  // fauxqs queue URLs use *.localhost hosts; resolve them to loopback in this process. The
  // emulators take any credentials; the region is the stack's.
  interceptLocalhostDns();
  process.env.AWS_REGION = state.region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return state;
}

/** Publish a running stack's endpoints for the CLI's `--local` commands. */
export function writeLocalState(dir: string, stack: LocalStack): void {
  mkdirSync(dir, { recursive: true });
  const state: LocalState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    region: stack.config.region,
    account: stack.config.account,
    busName: stack.busName,
    endpoints: stack.endpoints,
    tables: stack.tables,
    queues: stack.queues,
  };
  writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** `local up`: the embedded stack in the foreground until Ctrl-C, DynamoDB data kept under `dir`. */
export async function localUp(dir: string, print: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const stack = await startLocalStack({ dataDir: join(dir, 'dynamo') });
  await seedPrograms(stack);
  writeLocalState(dir, stack);
  print('killswitch local stack is up (Ctrl-C to stop)');
  for (const [name, url] of Object.entries(stack.endpoints)) print(`  ${name.padEnd(12)} ${url}`);
  print(`  ${'bus'.padEnd(12)} ${stack.busName}`);
  print(`  ${'programs'.padEnd(12)} ${stack.config.programs.map((p) => p.programId).join(', ')} (registered ACTIVE)`);
  print('Try: npx killswitch status --local --as arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  print('stopping…');
  rmSync(stateFile(dir), { force: true });
  await stack.stop();
}

/** `local seed`: the sample program, its grants and employees, on the running local stack. */
export async function localSeed(dir: string, sizes: { employees: number; readers: number }): Promise<{ programs: string[]; grants: number; subjects: number }> {
  const state = readLocalState(dir);
  const target: SeedTarget = { endpoints: state.endpoints, tables: state.tables, config: loadDeploymentConfig() };
  const programs = await seedPrograms(target);
  const grants = await seedGrants(target, sizes.readers);
  const subjects = await seedDataSubjects(target, sizes.employees);
  return { programs, grants, subjects };
}
