import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
/** The demo as `npm run -s demo -- …` runs it: its own process, nothing started when the options are wrong. */
const demo = (...args: string[]) => {
  const r = spawnSync(process.execPath, [TSX, 'local/demo.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('npm run demo: bad options get one line and exit 2, before anything starts', () => {
  it.each([
    [['--bogus'], /^demo: Unknown option '--bogus' \(see --help\)$/],
    [['--employees', '-5'], /^demo: Option '--employees' argument is ambiguous/],
    [['--employees'], /^demo: Option '--employees <value>' argument missing/],
    [['--collectors', '0'], /^demo: --collectors must be a positive whole number, got "0"/],
    [['--agents', '1.5'], /^demo: --agents must be a positive whole number, got "1.5"/],
    [['--source', 'nope'], /^demo: --source must be one of anomaly, macie, guardduty, securityhub, securityhub-ocsf, got "nope"/],
    [['extra'], /^demo: Unexpected argument 'extra'/],
  ])('%j', (args, message) => {
    const r = demo(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('--help prints the options on stdout and exits 0', () => {
    const r = demo('--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const option of ['--source', '--collectors', '--agents', '--agent-refresh-ms', '--employees', '--json', '--keep', '--verbose'])
      expect(r.stdout).toContain(option);
  });
});
