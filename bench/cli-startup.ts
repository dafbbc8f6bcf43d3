import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '#local/stack.ts';
import { writeLocalState } from '#cli/local.ts';
import { PROJECT_ROOT } from '#infra/constructs/killswitch-function.ts';
import { round } from './support.ts';

const CHECKOUT_BIN = join(PROJECT_ROOT, 'bin/killswitch.js');
const PACKAGE_BIN = join(PROJECT_ROOT, 'packages/cli/bin/killswitch.js');
const ALICE = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice';

/**
 * Median wall time (ms) of a whole process, from spawn to exit, over `runs` runs, one at a time
 * (spawned asynchronously: the local stack it talks to runs in this process).
 */
async function medianMs(args: string[], env: NodeJS.ProcessEnv, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await promisify(execFile)(process.execPath, args, { env });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/**
 * cli-startup: how long an operator waits for the CLI, as a process of its own — `--help`, and
 * `status` against the local stack (signed with the local STS's credentials, over HTTP) — from a
 * checkout (TypeScript through tsx) and as the installed bundle, beside a bare `node -e ''` in the
 * same run. Targets (issue 18): under 1 s for `--help`, under 1.5 s for a local `status`.
 */
export async function cliStartup({ quick }: { quick: boolean }) {
  const runs = quick ? 3 : 9;
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/build-packages.mjs'), 'cli'], { stdio: 'ignore' });
  const stack = await startLocalStack();
  const dir = mkdtempSync(join(tmpdir(), 'ks-bench-cli-'));
  writeLocalState(dir, stack);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KILLSWITCH_STATE_DIR: dir, KILLSWITCH_AS: ALICE };
  try {
    const node = await medianMs(['-e', ''], env, runs);
    const checkout = {
      helpMs: round(await medianMs([CHECKOUT_BIN, '--help'], env, runs)),
      localStatusMs: round(await medianMs([CHECKOUT_BIN, '--local', 'status'], env, runs)),
    };
    const installed = { helpMs: round(await medianMs([PACKAGE_BIN, '--help'], env, runs)) };
    return {
      name: 'cli-startup',
      runs,
      bareNodeMs: round(node),
      checkout,
      installed,
      target: { helpMs: '< 1000', localStatusMs: '< 1500' },
      withinTarget: checkout.helpMs < 1000 && installed.helpMs < 1000 && checkout.localStatusMs < 1500,
    };
  } finally {
    await stack.stop();
  }
}
