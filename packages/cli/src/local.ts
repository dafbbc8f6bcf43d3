import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDeploymentConfig } from '../../../infra/config.ts';
import { startLocalStack, type LocalStack } from '../../../local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms, type SeedTarget } from '../../../local/seed.ts';
import { readLocalState, stateFile, type LocalState } from './local-state.ts';

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
    agentEnrolmentSecretArn: stack.agentEnrolmentSecretArn,
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
