import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ALICE } from '../support/local.ts';

const BIN = join(import.meta.dirname, '../../bin/killswitch.js');

/** The CLI as an operator runs it: a process of its own, its exit code and output. */
async function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      timeout: 120_000,
    });
    return { code: 0, out: stdout.trim(), err: stderr.trim() };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: (e.stdout ?? '').trim(), err: (e.stderr ?? '').trim() };
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The local stack's lifecycle, as spawned processes (issue 18): `local up --detach`, `local status`,
 * `local down`, `local reset`; a record left by a killed stack recognised as stale; a state dir per
 * user, not per current directory.
 */
describe('local stack lifecycle (spawned CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-lifecycle-'));
  const ks = (...args: string[]) => run(['--state-dir', dir, ...args]);
  const pids: number[] = [];
  let pid = 0;
  afterAll(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('starts in the background, refuses a second one, and answers', async () => {
    expect(JSON.parse((await ks('-o', 'json', 'local', 'status')).out)).toMatchObject({ status: 'STOPPED', stateDir: dir });

    const up = await ks('-o', 'json', 'local', 'up', '--detach');
    expect(up.code, up.err).toBe(0);
    const started = JSON.parse(up.out) as { pid: number; status: string };
    pids.push(started.pid);
    expect(started.status).toBe('RUNNING');
    expect(alive(started.pid)).toBe(true);

    const again = await ks('local', 'up', '--detach');
    expect(again).toMatchObject({ code: 3, err: expect.stringContaining(`already running on ${dir} (pid ${started.pid}`) });

    const status = JSON.parse((await ks('-o', 'json', 'local', 'status')).out);
    expect(status).toMatchObject({ status: 'RUNNING', pid: started.pid });
    expect(Object.values(status.endpoints as Record<string, { reachable: boolean }>).every((e) => e.reachable)).toBe(true);

    const programs = await ks('--local', '--as', ALICE, '-o', 'json', 'status');
    expect(programs.code, programs.out).toBe(0);
    expect(JSON.parse(programs.out)).toMatchObject({ ok: true, result: { action: 'status' } });

    expect(await ks('local', 'reset')).toMatchObject({ code: 3, err: expect.stringContaining('stop it first') });

    pid = started.pid;
  }, 180_000);

  it('recognises the record of a stack that was killed -9 as stale, starts again over it, and stops', async () => {
    // Never 0 or 1 (a process group, or init): the first test must have recorded the stack's pid.
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'local.json'))).toBe(true); // nothing removed it

    const status = await ks('--local', '--as', ALICE, 'status');
    expect(status).toMatchObject({ code: 1, err: expect.stringContaining(`is gone (pid ${pid} is not running`) });
    expect(JSON.parse((await ks('-o', 'json', 'local', 'status')).out)).toMatchObject({ status: 'STALE', pid });

    const restarted = await ks('local', 'up', '--detach');
    expect(restarted.code, restarted.err).toBe(0);
    expect(restarted.out).toContain(`replacing the record of a local stack that is gone (pid ${pid})`);
    const newPid = Number(/pid (\d+);/.exec(restarted.out)![1]);
    pids.push(newPid);
    expect(newPid).not.toBe(pid);
    const down = await ks('local', 'down');
    expect(down).toMatchObject({ code: 0, out: expect.stringContaining(`stopped the local stack (pid ${newPid})`) });
    expect(alive(newPid)).toBe(false);
    expect(JSON.parse((await ks('-o', 'json', 'local', 'status')).out)).toMatchObject({ status: 'STOPPED', hasData: true });
    expect(await ks('local', 'down')).toMatchObject({ code: 0, out: expect.stringContaining('no local stack is running') });

    const reset = await ks('local', 'reset');
    expect(reset).toMatchObject({ code: 0, out: expect.stringContaining(join(dir, 'dynamo')) });
    expect(existsSync(join(dir, 'dynamo'))).toBe(false);
    expect(existsSync(join(dir, 'local.log'))).toBe(false);
  }, 180_000);

  it('keeps its state per user, whatever the current directory', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ks-home-'));
    const status = async (cwd: string, env: NodeJS.ProcessEnv = {}) =>
      JSON.parse((await run(['-o', 'json', 'local', 'status'], { cwd, env: { HOME: home, ...env } })).out).stateDir;
    const expected = join(home, '.local', 'state', 'killswitch');
    expect(await status(tmpdir())).toBe(expected);
    expect(await status(home)).toBe(expected);
    expect(await status(tmpdir(), { XDG_STATE_HOME: join(home, 'xdg') })).toBe(join(home, 'xdg', 'killswitch'));
    expect(await status(tmpdir(), { KILLSWITCH_STATE_DIR: join(home, 'mine') })).toBe(join(home, 'mine'));
  }, 60_000);
});
