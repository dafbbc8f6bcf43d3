import { main } from '#cli/main.ts';

/** Runs the CLI in-process (against the local stack when given `--local`); returns its exit code and output. */
export async function cli(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--state-dir', dir, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The JSON the CLI printed last (`--json`). */
export const json = (text: string) => JSON.parse(text.split('\n').at(-1)!);
