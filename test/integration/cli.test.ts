import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '#cli/main.ts';
import { writeLocalState } from '#cli/local.ts';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { ALICE, BOB } from '../support/local.ts';

/** Runs the CLI in-process against the local stack; returns its exit code and output. */
async function cli(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--state-dir', dir, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const json = (text: string) => JSON.parse(text.split('\n').at(-1)!);

describe('CLI: killswitch against the local stack', () => {
  let stack: LocalStack;
  let dir: string;
  const as = (who: string) => ['--local', '--as', who];

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    dir = mkdtempSync(join(tmpdir(), 'ks-cli-'));
    writeLocalState(dir, stack);
    expect((await cli(dir, '--local', 'local', 'seed', '--employees', '50', '--readers', '3')).code).toBe(0);
  }, 120_000);
  afterAll(() => stack?.stop());

  it('pauses, shows the status, and needs a second person to resume', async () => {
    const paused = await cli(dir, ...as(ALICE), 'pause', '--program', 'mci', '--reason', 'HR reported an exposure');
    expect(paused).toMatchObject({ code: 0, out: expect.stringMatching(/^PAUSED: mci\/\* is PAUSED at version 2 \(incident inc-/) });

    const status = await cli(dir, ...as(ALICE), 'status', '--program', 'mci');
    expect(status.out).toMatch(/PROGRAM\s+SCOPE\s+STATUS/);
    expect(status.out).toMatch(/mci\s+\*\s+PAUSED\s+2/);
    const incidentId = json((await cli(dir, ...as(ALICE), '--json', 'status')).out).result.programs[0].scopes[0].incidentId as string;

    const request = await cli(dir, ...as(ALICE), '--json', 'resume', 'request', '--program', 'mci', '--reason', 'ACL fixed', '--incident', incidentId);
    const requestId = json(request.out).result.request.requestId as string;
    const self = await cli(dir, ...as(ALICE), 'resume', 'approve', '--program', 'mci', '--request', requestId);
    expect(self).toMatchObject({ code: 3, err: expect.stringContaining('different person') });
    // The same person under another spelling of the session name, or through another operators role: refused too.
    for (const alias of [ALICE.replace('/alice', '/Alice'), ALICE.replace('/alice', '/ALICE')]) {
      expect(await cli(dir, ...as(alias), 'resume', 'approve', '--program', 'mci', '--request', requestId)).toMatchObject({ code: 3, err: expect.stringContaining('different person') });
    }
    expect(json((await cli(dir, ...as(ALICE), '--json', 'status', '--program', 'mci')).out).result.programs[0].status).toBe('PAUSED');
    const approved = await cli(dir, ...as(BOB), 'resume', 'approve', '--program', 'mci', '--request', requestId);
    expect(approved).toMatchObject({ code: 0, out: 'mci/* is ACTIVE at version 3' });
  });

  it('notifies, waits for the notices, restores grants with two people, and shows the incident', async () => {
    const event = join(dir, 'anomaly.json');
    writeFileSync(
      event,
      JSON.stringify({
        source: 'com.example.dlp',
        'detail-type': 'Anomaly Detected',
        detail: { anomalyId: 'cli-1', programId: 'mci', detector: 'dlp', severity: 'CRITICAL', kind: 'access-exposure', datasetIds: ['mouse'], observedAt: new Date().toISOString(), summary: 'x' },
      }),
    );
    expect((await cli(dir, '--local', 'events', 'send', '--file', event)).out).toMatch(/^event .* put on killswitch-bus$/);
    await stack.idle();
    const list = json((await cli(dir, ...as(ALICE), '--json', 'incident', 'list', '--program', 'mci')).out);
    const incidentId = list.result.incidents.find((i: { anomalyId?: string }) => i.anomalyId === 'cli-1').incidentId as string;

    const notify = await cli(dir, ...as(ALICE), 'notify', '--incident', incidentId, '--wait');
    expect(notify.code).toBe(0); // 33 of the 50 seeded employees have data in the mouse dataset
    expect(notify.err).toMatch(/notices: 33 sent, 0 failed, 0 waiting of 33 planned$/);

    const restore = await cli(dir, ...as(ALICE), '--json', 'grants', 'restore', '--incident', incidentId, '--reason', 'audience verified');
    const requestId = json(restore.out).result.request.requestId as string;
    expect((await cli(dir, ...as(ALICE), 'grants', 'approve', '--request', requestId)).code).toBe(3);
    expect((await cli(dir, ...as(BOB), 'grants', 'approve', '--request', requestId)).code).toBe(0);
    await stack.idle();

    const show = await cli(dir, ...as(ALICE), 'incident', 'show', incidentId);
    expect(show.out).toMatch(/GRANTS_REVOKED/);
    expect(show.out).toMatch(/GRANTS_RESTORED/);
    expect(show.out).toMatch(/notices\s+\{"planned":33,"pending":0,"sending":0,"sent":33,"failed":0\}/);
  }, 120_000);

  it('a pause that exits 0 always leaves the program PAUSED: a new pause, one naming an incident a resume closed, a linked one', async () => {
    const first = await cli(dir, ...as(ALICE), '--json', 'pause', '--program', 'mci', '--scope', 'category#transcripts', '--reason', 'first');
    const incidentId = json(first.out).result.incidentId as string;
    const request = json((await cli(dir, ...as(ALICE), '--json', 'resume', 'request', '--program', 'mci', '--scope', 'category#transcripts', '--reason', 'fixed', '--incident', incidentId)).out);
    expect((await cli(dir, ...as(BOB), 'resume', 'approve', '--program', 'mci', '--request', request.result.request.requestId)).code).toBe(0);
    const scopeStatus = async () =>
      json((await cli(dir, ...as(ALICE), '--json', 'status', '--program', 'mci')).out).result.programs[0].scopes.find((s: { scope: string }) => s.scope === 'category#transcripts').status;
    expect(await scopeStatus()).toBe('ACTIVE');
    for (const extra of [['--incident', incidentId], [], []]) {
      const paused = await cli(dir, ...as(BOB), 'pause', '--program', 'mci', '--scope', 'category#transcripts', '--reason', 'again', ...extra);
      expect(paused.code).toBe(0);
      expect(await scopeStatus()).toBe('PAUSED');
    }
  });

  it('refuses a scope the program does not declare (exit 2), and a dry run changes nothing', async () => {
    const typo = await cli(dir, ...as(ALICE), 'pause', '--program', 'mci', '--scope', 'category#keystroke', '--reason', 'typo');
    expect(typo).toMatchObject({ code: 2, err: expect.stringContaining('"category#keystroke" is not a scope of program mci') });
    const dry = await cli(dir, ...as(ALICE), 'pause', '--program', 'mci', '--scope', 'category#keystrokes', '--reason', 'checking', '--dry-run');
    expect(dry).toMatchObject({ code: 0, out: expect.stringMatching(/^dry run: nothing changed\nwould stop: .*\nwould revoke: keystrokes \(\d+ grants\)$/) });
  });

  it('pauses on a MEDIUM-then-CRITICAL anomaly, and the incident records the escalation', async () => {
    const send = async (severity: string) => {
      const event = join(dir, `escalation-${severity}.json`);
      writeFileSync(event, JSON.stringify({ source: 'com.example.dlp', 'detail-type': 'Anomaly Detected', detail: { anomalyId: 'cli-escalates', programId: 'mci', detector: 'dlp', severity, kind: 'access-exposure', scope: 'region#eu-west-1', observedAt: new Date().toISOString(), summary: 'x' } }));
      expect((await cli(dir, '--local', 'events', 'send', '--file', event)).code).toBe(0);
      await stack.idle();
    };
    const regionStatus = async () => json((await cli(dir, ...as(ALICE), '--json', 'status', '--program', 'mci')).out).result.programs[0].scopes.find((s: { scope: string }) => s.scope === 'region#eu-west-1')?.status;
    await send('MEDIUM');
    expect(await regionStatus()).toBeUndefined(); // recorded, nothing paused
    await send('CRITICAL');
    expect(await regionStatus()).toBe('PAUSED');
    const list = json((await cli(dir, ...as(ALICE), '--json', 'incident', 'list', '--program', 'mci')).out);
    const incident = list.result.incidents.find((i: { anomalyId?: string }) => i.anomalyId === 'cli-escalates');
    expect(incident).toMatchObject({ severity: 'CRITICAL', action: 'PAUSED', revision: 2 });
    const show = await cli(dir, ...as(ALICE), 'incident', 'show', incident.incidentId);
    expect(show.out).toMatch(/ESCALATED/);
    expect(show.out).toMatch(/STATE_CHANGED/);
  });

  it('pauses through break-glass, recorded as unverified', async () => {
    const out = await cli(dir, ...as(ALICE), '--json', 'pause', '--program', 'mci', '--scope', 'category#keystrokes', '--reason', 'URL down', '--break-glass');
    expect(json(out.out)).toMatchObject({ ok: true, result: { state: { trigger: 'BREAK_GLASS', changedByVerified: false } } });
  });

  it('sends an AWS sample finding locally, as the service would, and refuses to fake one against AWS', async () => {
    const sample = join(import.meta.dirname, '../../local/samples/guardduty-finding.json');
    const sent = await cli(dir, '--local', 'events', 'send', '--file', sample);
    expect(sent).toMatchObject({ code: 0, out: expect.stringMatching(/^event .* put on default \(as aws\.guardduty\)$/) });
    await stack.idle();
    expect(stack.bus.journal.some((j) => j.event.source === 'aws.guardduty' && j.rules.includes('FindingTriggersGuardDutyRule'))).toBe(true);
    expect(stack.functions.log.some((l) => l.function === 'finding-trigger' && l.ok)).toBe(true);
    const remote = await cli(dir, '--region', 'eu-west-1', 'events', 'send', '--file', sample);
    expect(remote).toMatchObject({ code: 2, err: expect.stringContaining('put on the default bus by AWS itself') });
  });

  it('explains bad input with exit code 2', async () => {
    expect(await cli(dir, ...as(ALICE), 'pause', '--program', 'mci')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--reason <text>'") });
    expect(await cli(dir, ...as(ALICE), 'pause', '--program', 'nope', '--reason', 'x')).toMatchObject({ code: 2, err: expect.stringContaining('unknown programId "nope"') });
    expect(await cli(dir, '--local', 'status')).toMatchObject({ code: 2, err: expect.stringContaining('--local needs --as') });
    expect(await cli(dir, '--as', ALICE, 'status')).toMatchObject({ code: 2, err: expect.stringContaining('only with --local') });
    expect(await cli(dir, 'status')).toMatchObject({ code: 2, err: expect.stringContaining('no operator URL') });
    expect(await cli(dir, ...as(ALICE), 'incident', 'list', '--limit', 'lots')).toMatchObject({ code: 2 });
    expect(await cli(join(dir, 'nowhere'), ...as(ALICE), 'status')).toMatchObject({ code: 1, err: expect.stringContaining('no local stack is running') });
  });

  it('reports an unreachable endpoint and missing credentials clearly', async () => {
    const unreachable = await cli(dir, '--url', 'http://127.0.0.1:9/', '--region', 'eu-west-1', 'status');
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/no AWS credentials|cannot reach http:\/\/127\.0\.0\.1:9\//);
  });
});
