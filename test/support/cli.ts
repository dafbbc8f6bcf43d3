import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { writeLocalState } from '#cli/local.ts';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { main } from '#cli/main.ts';

/** Runs the CLI in-process (against the local stack when given `--local`); returns its exit code and output. */
export function cli(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliWith({}, dir, ...args);
}

/** `cli`, with an environment and what stdin holds. */
export async function cliWith(
  options: { env?: NodeJS.ProcessEnv; stdin?: string },
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--state-dir', dir, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: options.env ?? {},
    stdin: () => {
      if (options.stdin === undefined) throw new Error('nothing on stdin');
      return options.stdin;
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The JSON the CLI printed last (`--json`). */
export const json = (text: string) => JSON.parse(text.split('\n').at(-1)!);

/**
 * A local stack for a describe block's CLI tests, seeded with the sample program: started before
 * its tests, stopped after them. `--local --as <who>` is `as(who)`.
 */
export function localStackForCli(seed: { employees: number; readers: number }): {
  stack: () => LocalStack;
  dir: () => string;
  as: (who: string) => string[];
} {
  let stack: LocalStack | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    dir = mkdtempSync(join(tmpdir(), 'ks-cli-'));
    writeLocalState(dir, stack);
    expect(
      (await cli(dir, '--local', 'local', 'seed', '--employees', String(seed.employees), '--readers', String(seed.readers))).code,
    ).toBe(0);
  }, 120_000);
  afterAll(() => stack?.stop());
  return {
    stack: () => stack!,
    dir: () => dir!,
    as: (who) => ['--local', '--as', who],
  };
}

/** Writes an `Anomaly Detected` event of program mci on scope region#eu-west-1, as a detector would send it; returns its path. */
export function anomalyFile(dir: string, name: string, detail: { anomalyId: string; severity: string; summary?: string }): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      source: 'com.example.dlp',
      'detail-type': 'Anomaly Detected',
      detail: {
        programId: 'mci',
        detector: 'dlp',
        kind: 'access-exposure',
        scope: 'region#eu-west-1',
        observedAt: new Date().toISOString(),
        summary: 'x',
        ...detail,
      },
    }),
  );
  return file;
}
