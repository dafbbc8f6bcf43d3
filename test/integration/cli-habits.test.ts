import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ALICE, BOB } from '../support/local.ts';
import { anomalyFile, cli, cliWith, json, localStackForCli } from '../support/cli.ts';

/**
 * The habits operators bring from the aws CLI and kubectl (issue 18): one output format for results
 * and errors, the pending requests a second person must find, filters, long reasons from a file or
 * stdin, refreshing status, text from the ledger that cannot take over the terminal, and an anomaly
 * checked against its schema before it is sent.
 */
describe('CLI: operator habits, against the local stack', () => {
  const { as, ...local } = localStackForCli({ employees: 20, readers: 2 });

  it('prints every result and every error in the chosen format, on stdout only', async () => {
    const ok = await cli(local.dir(), ...as(ALICE), '-o', 'yaml', 'status', '--program', 'mci');
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(parseYaml(ok.out)).toMatchObject({ ok: true, result: { action: 'status', programs: [{ programId: 'mci' }] } });
    expect(json((await cli(local.dir(), ...as(ALICE), '--output=json', 'status')).out)).toMatchObject({ ok: true });

    // An error of each origin: commander's parsing, the CLI's own checks, and the operator function's refusal.
    const cases: [string[], number, string][] = [
      [['status', '--bogus'], 2, "unknown option '--bogus'"],
      [['incident', 'list', '--limit', 'lots'], 2, 'must be a positive whole number'],
      [['pause', '--program', 'mci'], 2, 'a reason is required'],
      [['--local', 'status'], 2, '--local needs --as'],
      [[...as(ALICE), 'pause', '--program', 'nope', '--reason', 'x'], 2, 'unknown programId "nope"'],
    ];
    for (const [args, code, message] of cases) {
      for (const format of ['json', 'yaml'] as const) {
        const r = await cli(local.dir(), '-o', format, ...args);
        expect(r, `${format} ${args.join(' ')}`).toMatchObject({ code, err: '' });
        const body = format === 'json' ? JSON.parse(r.out) : parseYaml(r.out);
        expect(body).toMatchObject({ ok: false, error: { kind: expect.any(String), message: expect.stringContaining(message) } });
      }
      const legacy = await cli(local.dir(), '--json', ...args);
      expect(JSON.parse(legacy.out)).toMatchObject({ ok: false });
      const people = await cli(local.dir(), ...args);
      expect(people).toMatchObject({ code, out: '' });
      expect(people.err.split('\n')[0]).toContain(message);
    }
    // A format that does not exist is itself an error, said once.
    const bad = await cli(local.dir(), '-o', 'xml', 'status');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: option '-o, --output <format>' argument 'xml' is invalid/);
    expect(bad.err.split('\n')).toHaveLength(1);
    expect((await cliWith({ env: { KILLSWITCH_OUTPUT: 'xml' } }, local.dir(), 'status')).err).toContain('KILLSWITCH_OUTPUT must be one of');
    expect(JSON.parse((await cliWith({ env: { KILLSWITCH_OUTPUT: 'json' } }, local.dir(), 'status')).out)).toMatchObject({ ok: false });
  });

  it('a validation error names each field once', async () => {
    const r = await cli(local.dir(), ...as(ALICE), 'pause', '--program', 'mci', '--scope', 'Not A Scope', '--reason', 'x');
    expect(r.code).toBe(2);
    const lines = r.err.split('\n');
    expect(lines.filter((l) => l.includes('scope'))).toHaveLength(1);
  });

  it('a second person finds the pending resume and grant restore, with who asked and how long ago, and approves by its id', async () => {
    const paused = json((await cli(local.dir(), ...as(ALICE), '-o', 'json', 'pause', '--program', 'mci', '--reason', 'habits')).out);
    const incidentId = paused.result.incidentId as string;
    await local.stack().idle();
    // A long reason, from stdin.
    const reason = `Grants fixed.\n${'Checked by the data owner. '.repeat(10)}`;
    const asked = await cliWith(
      { stdin: `${reason}\n\n` },
      local.dir(),
      ...as(ALICE),
      'resume',
      'request',
      '--program',
      'mci',
      '--incident',
      incidentId,
      '--reason-file',
      '-',
    );
    expect(asked.code).toBe(0);
    const restoreFile = join(local.dir(), 'restore-reason.txt');
    writeFileSync(restoreFile, 'owner confirmed the ACL\n');
    expect((await cli(local.dir(), ...as(ALICE), 'grants', 'restore', '--incident', incidentId, '--reason-file', restoreFile)).code).toBe(
      0,
    );

    const resumes = json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'resume', 'list', '--program', 'mci')).out).result.requests;
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toMatchObject({
      kind: 'RESUME',
      scope: '*',
      incidentId,
      status: 'PENDING',
      requestedBy: ALICE,
      reason: reason.trimEnd(),
    });
    const restores = json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'grants', 'requests')).out).result.requests;
    expect(restores).toMatchObject([{ kind: 'RESTORE_GRANTS', incidentId, requestedBy: ALICE, reason: 'owner confirmed the ACL' }]);

    // People see both in status, with the command that decides each; the reason's newline is shown, not obeyed.
    const status = await cli(local.dir(), ...as(BOB), 'status', '--program', 'mci');
    expect(status.out).toContain('waiting for a second person (mci):');
    expect(status.out).toContain(`killswitch resume approve --program mci --request ${resumes[0].requestId}`);
    expect(status.out).toContain(`killswitch grants approve --request ${restores[0].requestId}`);
    expect(status.out).toContain('Grants fixed.\\nChecked');
    expect(status.out).toMatch(/\d+ s/);

    expect((await cli(local.dir(), ...as(BOB), 'resume', 'approve', '--program', 'mci', '--request', resumes[0].requestId)).code).toBe(0);
    expect(json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'resume', 'list')).out).result.requests).toEqual([]);
    const decided = json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'resume', 'list', '--status', 'APPROVED')).out).result.requests;
    expect(decided).toMatchObject([{ requestId: resumes[0].requestId, status: 'APPROVED', decidedBy: BOB }]);
    expect((await cli(local.dir(), ...as(BOB), 'grants', 'approve', '--request', restores[0].requestId)).code).toBe(0);
    await local.stack().idle();
    // After the restore the header says what was restored, not only what was revoked.
    const shown = json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'incident', 'show', incidentId)).out).result;
    expect(shown.grants.restored).toBeGreaterThan(0);
    expect(shown.grants.restored).toBe(shown.grants.revoked);
    expect((await cli(local.dir(), ...as(BOB), 'incident', 'show', incidentId)).out).toMatch(
      new RegExp(`grants\\s+${shown.grants.revoked} revoked.*; ${shown.grants.restored} restored since`),
    );
    expect(json((await cli(local.dir(), ...as(BOB), '-o', 'json', 'grants', 'requests')).out).result.requests).toEqual([]);
    expect((await cli(local.dir(), ...as(BOB), 'status', '--program', 'mci')).out).not.toContain('waiting for a second person');
  });

  it('refuses a reason given twice, an empty reason file and a missing one, before anything is sent', async () => {
    const empty = join(local.dir(), 'empty.txt');
    writeFileSync(empty, '\n\n');
    const base = [...as(ALICE), 'pause', '--program', 'mci'];
    expect((await cli(local.dir(), ...base, '--reason', 'a', '--reason-file', empty)).err).toContain('not both');
    expect((await cli(local.dir(), ...base, '--reason-file', empty)).err).toContain('is empty');
    expect((await cli(local.dir(), ...base, '--reason-file', join(local.dir(), 'missing.txt'))).err).toContain('cannot read');
    expect((await cli(local.dir(), ...base, '--reason-file', '-')).err).toContain('nothing on stdin');
    expect(json((await cli(local.dir(), ...as(ALICE), '-o', 'json', 'status', '--program', 'mci')).out).result.programs[0].status).toBe(
      'ACTIVE',
    );
  });

  it('filters incidents by status, severity and age', async () => {
    const anomaly = (id: string, severity: string) => anomalyFile(local.dir(), id, { anomalyId: id, severity, summary: 'filter test' });
    expect((await cli(local.dir(), '--local', 'events', 'send', '--file', anomaly('filter-low', 'LOW'))).code).toBe(0);
    expect((await cli(local.dir(), '--local', 'events', 'send', '--file', anomaly('filter-critical', 'CRITICAL'))).code).toBe(0);
    await local.stack().idle();
    const list = async (...args: string[]) =>
      json((await cli(local.dir(), ...as(ALICE), '-o', 'json', 'incident', 'list', '--program', 'mci', ...args)).out).result.incidents as {
        severity: string;
        status: string;
        openedAt: string;
        anomalyId?: string;
      }[];
    const all = await list();
    expect(all.map((i) => i.anomalyId)).toEqual(expect.arrayContaining(['filter-low', 'filter-critical']));
    const high = await list('--severity', 'HIGH');
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((i) => i.severity === 'HIGH' || i.severity === 'CRITICAL')).toBe(true);
    expect(high.some((i) => i.anomalyId === 'filter-low')).toBe(false);
    const resolved = await list('--status', 'RESOLVED');
    expect(resolved.length).toBeGreaterThan(0); // the previous test's resume resolved its incident
    expect(resolved.every((i) => i.status === 'RESOLVED')).toBe(true);
    expect(await list('--since', '1d')).toHaveLength(all.length);
    expect(await list('--since', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
    expect((await cli(local.dir(), ...as(ALICE), 'incident', 'list', '--since', 'yesterday')).err).toContain('ISO 8601 time');
  });

  it('refuses an anomaly the trigger would refuse, naming the field, and sends nothing; warns of fields it would clean', async () => {
    const file = join(local.dir(), 'bad-anomaly.json');
    const write = (detail: Record<string, unknown>) =>
      writeFileSync(file, JSON.stringify({ source: 'com.example.dlp', 'detail-type': 'Anomaly Detected', detail }));
    write({ anomalyId: 'bad-one', programId: 'mci', severity: 'SEVERE', observedAt: 'yesterday' });
    const before = local.stack().bus.journal.length;
    const r = await cli(local.dir(), '--local', 'events', 'send', '--file', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('an Anomaly Detected event the trigger would refuse; nothing was sent');
    expect(r.err).toMatch(/detail\.severity: /);
    expect(local.stack().bus.journal.length).toBe(before);
    const machine = JSON.parse((await cli(local.dir(), '--local', '-o', 'json', 'events', 'send', '--file', file)).out);
    expect(machine.error.issues.map((i: { path: string }) => i.path)).toContain('detail.severity');
    // Only the minimal fields: the trigger pauses on it, so it is sent, with a warning per field it will clean.
    write({ anomalyId: 'minimal-one', programId: 'mci', severity: 'LOW', observedAt: 'yesterday' });
    const sent = await cli(local.dir(), '--local', 'events', 'send', '--file', file);
    expect(sent.code, sent.err).toBe(0);
    expect(sent.out).toMatch(/^event .* put on killswitch-bus$/);
    expect(sent.err).toMatch(/warning: detail\.observedAt: .*the trigger cleans or replaces it/);
    expect(sent.err).toMatch(/warning: detail\.summary: /);
    await local.stack().idle();
  });

  it('status --watch shows the state again each interval; -o json prints one line each time', async () => {
    const people = await cli(local.dir(), ...as(ALICE), 'status', '--program', 'mci', '--watch', '1', '--count', '2');
    expect(people.code).toBe(0);
    expect(people.out.match(/every 1 s \(Ctrl-C to stop\)/g)).toHaveLength(2);
    expect(people.out.match(/PROGRAM\s+SCOPE\s+STATUS/g)).toHaveLength(2);
    const machine = await cli(local.dir(), ...as(ALICE), '-o', 'json', 'status', '--watch', '1', '--count', '2');
    const lines = machine.out.split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ ok: true, result: { action: 'status' } });
    expect((await cli(local.dir(), ...as(ALICE), 'status', '--count', '2')).err).toContain('--count goes with --watch');
  });

  it('shows a reason that tries to take over the terminal as escapes, and aligns wide characters', async () => {
    // Control characters never reach the ledger (the reason schema refuses them); bidi overrides,
    // isolates and newlines do, and must not reorder or break the table.
    expect((await cli(local.dir(), ...as(ALICE), 'pause', '--program', 'mci', '--reason', 'bell\u0007')).err).toContain(
      'control characters',
    );
    const hostile = 'approved by\u202e ytiruces\u2066\nSTATUS ACTIVE 社員データ';
    const r = await cli(local.dir(), ...as(ALICE), 'pause', '--program', 'mci', '--scope', 'category#keystrokes', '--reason', hostile);
    expect(r.code).toBe(0);
    const status = await cli(local.dir(), ...as(ALICE), 'status', '--program', 'mci');
    expect(status.out).toContain('approved by\\u{202e} ytiruces\\u{2066}\\nSTATUS ACTIVE 社員データ');
    expect(status.out).not.toMatch(/[\u202e\u2066]/);
    const rows = status.out.split('\n');
    expect(rows.filter((l) => l.includes('category#keystrokes'))).toHaveLength(1);
    // Machine formats keep the text exactly.
    const machine = json((await cli(local.dir(), ...as(ALICE), '-o', 'json', 'status', '--program', 'mci')).out);
    expect(machine.result.programs[0].scopes.some((s: { why?: string }) => s.why === hostile)).toBe(true);
  });

  it("records a second pause's reason in its incident, though the scope was already paused", async () => {
    const first = json(
      (await cli(local.dir(), ...as(ALICE), '-o', 'json', 'pause', '--program', 'mci', '--scope', 'region#us-east-1', '--reason', 'first'))
        .out,
    );
    const second = json(
      (
        await cli(
          local.dir(),
          ...as(BOB),
          '-o',
          'json',
          'pause',
          '--program',
          'mci',
          '--scope',
          'region#us-east-1',
          '--reason',
          'second: the US bucket too',
        )
      ).out,
    );
    expect(second.result).toMatchObject({ outcome: 'ALREADY_PAUSED' });
    expect(second.result.incidentId).not.toBe(first.result.incidentId);
    const shown = json((await cli(local.dir(), ...as(ALICE), '-o', 'json', 'incident', 'show', second.result.incidentId)).out).result;
    expect(shown.timeline).toContainEqual(
      expect.objectContaining({ type: 'PAUSE_LINKED', data: expect.objectContaining({ reason: 'second: the US bucket too' }) }),
    );
    expect((await cli(local.dir(), ...as(ALICE), 'incident', 'show', second.result.incidentId)).out).toContain(
      'Reason: second: the US bucket too',
    );
  });
});
