import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './packages.ts';

export type SystemTool = 'chromium' | 'zsh' | 'fish';

/**
 * Programs npm cannot bring (Chromium, zsh, fish), found or installed from Debian's packages by the
 * project's own script (scripts/system-tools.mjs), which fails, saying how to get them, where it
 * cannot: never a skipped test.
 */
export function systemTools<T extends SystemTool>(...names: T[]): Record<T, { executable: string; version: string }> {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts/system-tools.mjs'), ...names], { encoding: 'utf8', timeout: 16 * 60_000 });
  if (run.status !== 0) throw new Error(`scripts/system-tools.mjs failed (exit ${run.status ?? run.signal}):\n${run.stderr || run.error}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<T, { executable: string; version: string }>;
}
