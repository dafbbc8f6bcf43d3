import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockFile, lockStateDir } from '#cli/local.ts';

/** `local up` takes the state dir's lock exclusively: two stacks never start on one data dir. */
describe('local up: the state dir lock', () => {
  const fresh = () => mkdtempSync(join(tmpdir(), 'ks-lock-'));

  it('lets one through and refuses the next while its holder runs; released, it can be taken again', () => {
    const dir = fresh();
    const release = lockStateDir(dir);
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(() => lockStateDir(dir)).toThrow(
      `a local stack is already running on ${dir} (pid ${process.pid}, which holds ${lockFile(dir)})`,
    );
    release();
    expect(existsSync(lockFile(dir))).toBe(false);
    lockStateDir(dir)();
  });

  it('takes over the lock of a process that is gone (kill -9), and of one never written that is old', () => {
    const dir = fresh();
    writeFileSync(lockFile(dir), JSON.stringify({ pid: 2 ** 22 + 12345 }));
    const release = lockStateDir(dir);
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8')).pid).toBe(process.pid);
    release();
    writeFileSync(lockFile(dir), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(dir), old, old);
    lockStateDir(dir)();
  });

  it('counts a lock being written (empty, just created) as held, and never releases a lock another process took over', () => {
    const dir = fresh();
    writeFileSync(lockFile(dir), '');
    expect(() => lockStateDir(dir)).toThrow(/already starting on .* is being written/);
    const other = fresh();
    const release = lockStateDir(other);
    writeFileSync(lockFile(other), JSON.stringify({ pid: 4242 }));
    release();
    expect(JSON.parse(readFileSync(lockFile(other), 'utf8'))).toEqual({ pid: 4242 });
  });
});
