import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunning, processStart, readStateFile, stateFile } from '#cli/local-state.ts';
import { localDown, localReset } from '#cli/local.ts';

const record = (dir: string, fields: Record<string, unknown>) =>
  writeFileSync(stateFile(dir), JSON.stringify({ endpoints: {}, startedAt: new Date().toISOString(), ...fields }));

describe('The local state file names one process, and is obeyed only for it', () => {
  it('never takes a pid that addresses a process group (0, -1) or is not a whole number', () => {
    for (const pid of [0, -1, 1, 1.5, Number.NaN]) {
      expect(isRunning({ pid }), String(pid)).toBe(false);
      const dir = mkdtempSync(join(tmpdir(), 'ks-state-'));
      record(dir, { pid });
      expect(readStateFile(dir), String(pid)).toBeUndefined();
    }
  });

  it('takes a live pid whose start time differs (a reused pid) for stale, and local down only clears the record', async () => {
    expect(isRunning({ pid: process.pid, processStart: processStart(process.pid) })).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'ks-state-'));
    const other = process.ppid; // alive, but not the process that wrote the record
    record(dir, { pid: other, processStart: '1' });
    expect(isRunning({ pid: other, processStart: '1' })).toBe(processStart(other) === undefined);
    if (processStart(other) !== undefined) {
      expect(await localDown(dir)).toEqual({ stopped: false, pid: other, stale: true });
      expect(readStateFile(dir)).toBeUndefined();
    }
  });

  it('local reset deletes nothing in a directory killswitch did not make', () => {
    const home = mkdtempSync(join(tmpdir(), 'ks-home-'));
    mkdirSync(join(home, 'dynamo'));
    expect(() => localReset(home)).toThrow(/is not a state dir of killswitch's local stack/);
  });
});
