import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/**
 * The pinned Python tools' virtual environment (.venv-tools/, built on first use by
 * scripts/python-tools.mjs from the hash-locked tools/python/requirements.txt): cfn-lint, checkov
 * and moto's server. A machine without a usable Python fails here, with the script's message
 * saying how to get one: never a silent skip.
 */
export function pythonTools(): { cfnLint: string; checkov: string; motoServer: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts/python-tools.mjs')], { encoding: 'utf8', cwd: ROOT, timeout: 15 * 60_000 });
  if (run.status !== 0) throw new Error(`scripts/python-tools.mjs failed (exit ${run.status ?? run.signal}):\n${run.stderr || run.error}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { cfnLint: string; checkov: string; motoServer: string };
}
