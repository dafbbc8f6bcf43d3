import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTypeOf } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { main } from '#cli/main.ts';
import type { CommandFor, OperatorResponse, OperatorTarget } from '#cli/targets.ts';
import type { OperatorEnvelope } from '#functions/operator/envelope.ts';
import type {
  DryRunView,
  IncidentView,
  NotifyView,
  OperatorResult,
  PauseView,
  RestoreRequestView,
  StatusView,
} from '#shared/killswitch/operator.ts';
import type { LocalStack } from '#local/stack.ts';
import { ALICE, BOB, drainGateway } from '../support/local.ts';
import { anomalyFile, cli, json, localStackForCli } from '../support/cli.ts';
import { ACK_SIGNATURE_HEADER, deriveAgentSecret, signAck } from '#agent/ack.ts';

describe('CLI: killswitch against the local stack', () => {
  const local = localStackForCli({ employees: 50, readers: 3 });
  const { as } = local;
  let stack: LocalStack;
  let dir: string;
  beforeAll(() => {
    stack = local.stack();
    dir = local.dir();
  });

  it('pauses, shows the status, and needs a second person to resume', async () => {
    const paused = await cli(dir, ...as(ALICE), 'pause', '--program', 'mci', '--reason', 'HR reported an exposure');
    expect(paused).toMatchObject({ code: 0, out: expect.stringMatching(/^PAUSED: mci\/\* is PAUSED at version 2 \(incident inc-/) });

    const status = await cli(dir, ...as(ALICE), 'status', '--program', 'mci');
    expect(status.out).toMatch(/PROGRAM\s+SCOPE\s+STATUS/);
    expect(status.out).toMatch(/mci\s+\*\s+PAUSED\s+2/);
    const incidentId = json((await cli(dir, ...as(ALICE), '--json', 'status')).out).result.programs[0].scopes[0].incidentId as string;

    const request = await cli(
      dir,
      ...as(ALICE),
      '--json',
      'resume',
      'request',
      '--program',
      'mci',
      '--reason',
      'ACL fixed',
      '--incident',
      incidentId,
    );
    const requestId = json(request.out).result.request.requestId as string;
    const self = await cli(dir, ...as(ALICE), 'resume', 'approve', '--program', 'mci', '--request', requestId);
    expect(self).toMatchObject({ code: 3, err: expect.stringContaining('different person') });
    // The same person under another spelling of the session name, or through another operators role: refused too.
    for (const alias of [ALICE.replace('/alice', '/Alice'), ALICE.replace('/alice', '/ALICE')]) {
      expect(await cli(dir, ...as(alias), 'resume', 'approve', '--program', 'mci', '--request', requestId)).toMatchObject({
        code: 3,
        err: expect.stringContaining('different person'),
      });
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
        detail: {
          anomalyId: 'cli-1',
          programId: 'mci',
          detector: 'dlp',
          severity: 'CRITICAL',
          kind: 'access-exposure',
          datasetIds: ['mouse'],
          observedAt: new Date().toISOString(),
          summary: 'x',
        },
      }),
    );
    expect((await cli(dir, '--local', 'events', 'send', '--file', event)).out).toMatch(/^event .* put on killswitch-bus$/);
    await stack.idle();
    const list = json((await cli(dir, ...as(ALICE), '--json', 'incident', 'list', '--program', 'mci')).out);
    const incidentId = list.result.incidents.find((i: { anomalyId?: string }) => i.anomalyId === 'cli-1').incidentId as string;

    const notify = await cli(dir, ...as(ALICE), 'notify', '--incident', incidentId, '--wait');
    expect(notify.code).toBe(0); // 33 of the 50 seeded employees have data in the mouse dataset
    expect(notify.err).toMatch(/notices: 33 sent, 0 failed, 0 waiting of 33 planned$/);
    // -o json --wait: one document, once everything is sent (safe to repeat: nothing is sent twice).
    const again = await cli(dir, ...as(ALICE), '-o', 'json', 'notify', '--incident', incidentId, '--wait');
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out.split('\n')).toHaveLength(1);
    expect(JSON.parse(again.out)).toMatchObject({ ok: true, result: { done: true, notices: { sent: 33, pending: 0, sending: 0 } } });
    // One employee's notice, as they may ask for it: the text shown is the text delivered.
    const one = (await drainGateway(stack)).find((d) => d.incidentId === incidentId)!;
    const shown = await cli(dir, ...as(BOB), 'notices', 'show', '--incident', incidentId, '--employee', one.employeeId);
    expect(shown).toMatchObject({ code: 0, err: '' });
    expect(shown.out).toContain('exactly as sent');
    expect(shown.out).toContain(one.text.trimEnd());
    expect((await cli(dir, ...as(BOB), 'notices', 'show', '--incident', incidentId, '--employee', 'nobody')).code).toBe(2);

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
    const first = await cli(
      dir,
      ...as(ALICE),
      '--json',
      'pause',
      '--program',
      'mci',
      '--scope',
      'category#transcripts',
      '--reason',
      'first',
    );
    const incidentId = json(first.out).result.incidentId as string;
    const request = json(
      (
        await cli(
          dir,
          ...as(ALICE),
          '--json',
          'resume',
          'request',
          '--program',
          'mci',
          '--scope',
          'category#transcripts',
          '--reason',
          'fixed',
          '--incident',
          incidentId,
        )
      ).out,
    );
    expect((await cli(dir, ...as(BOB), 'resume', 'approve', '--program', 'mci', '--request', request.result.request.requestId)).code).toBe(
      0,
    );
    const scopeStatus = async () =>
      json((await cli(dir, ...as(ALICE), '--json', 'status', '--program', 'mci')).out).result.programs[0].scopes.find(
        (s: { scope: string }) => s.scope === 'category#transcripts',
      ).status;
    expect(await scopeStatus()).toBe('ACTIVE');
    for (const extra of [['--incident', incidentId], [], []]) {
      const paused = await cli(
        dir,
        ...as(BOB),
        'pause',
        '--program',
        'mci',
        '--scope',
        'category#transcripts',
        '--reason',
        'again',
        ...extra,
      );
      expect(paused.code).toBe(0);
      expect(await scopeStatus()).toBe('PAUSED');
    }
  });

  it('refuses a scope the program does not declare (exit 2), and a dry run changes nothing', async () => {
    const typo = await cli(dir, ...as(ALICE), 'pause', '--program', 'mci', '--scope', 'category#keystroke', '--reason', 'typo');
    expect(typo).toMatchObject({ code: 2, err: expect.stringContaining('"category#keystroke" is not a scope of program mci') });
    const dry = await cli(
      dir,
      ...as(ALICE),
      'pause',
      '--program',
      'mci',
      '--scope',
      'category#keystrokes',
      '--reason',
      'checking',
      '--dry-run',
    );
    expect(dry).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^dry run: nothing changed\nwould stop: .*\nwould revoke: keystrokes \(\d+ grants\)$/),
    });
  });

  it('pauses on a MEDIUM-then-CRITICAL anomaly, and the incident records the escalation', async () => {
    const send = async (severity: string) => {
      const event = anomalyFile(dir, `escalation-${severity}`, { anomalyId: 'cli-escalates', severity });
      expect((await cli(dir, '--local', 'events', 'send', '--file', event)).code).toBe(0);
      await stack.idle();
    };
    const regionStatus = async () =>
      json((await cli(dir, ...as(ALICE), '--json', 'status', '--program', 'mci')).out).result.programs[0].scopes.find(
        (s: { scope: string }) => s.scope === 'region#eu-west-1',
      )?.status;
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
    const out = await cli(
      dir,
      ...as(ALICE),
      '--json',
      'pause',
      '--program',
      'mci',
      '--scope',
      'category#keystrokes',
      '--reason',
      'URL down',
      '--break-glass',
    );
    expect(json(out.out)).toMatchObject({ ok: true, result: { state: { trigger: 'BREAK_GLASS', changedByVerified: false } } });
  });

  it('sends an AWS sample finding locally, as the service would, and refuses to fake one against AWS', async () => {
    const sample = join(import.meta.dirname, '../../local/samples/guardduty-finding.json');
    const sent = await cli(dir, '--local', 'events', 'send', '--file', sample);
    expect(sent).toMatchObject({ code: 0, out: expect.stringMatching(/^event .* put on default \(as aws\.guardduty\)$/) });
    await stack.idle();
    expect(stack.bus.journal.some((j) => j.event.source === 'aws.guardduty' && j.rules.includes('FindingTriggersGuardDutyRule'))).toBe(
      true,
    );
    expect(stack.functions.log.some((l) => l.function === 'finding-trigger' && l.ok)).toBe(true);
    const remote = await cli(dir, '--region', 'eu-west-1', 'events', 'send', '--file', sample);
    expect(remote).toMatchObject({ code: 2, err: expect.stringContaining('put on the default bus by AWS itself') });
  });

  it('enrols an endpoint agent: its secret is the one the acknowledgement endpoint checks, and a bad id is refused', async () => {
    const enrolled = await cli(dir, '--local', '--json', 'agents', 'enrol', 'laptop-cli-1');
    expect(enrolled.code).toBe(0);
    const { collectorId, secret } = json(enrolled.out) as { collectorId: string; secret: string };
    expect(collectorId).toBe('laptop-cli-1');
    const expected = await deriveAgentSecret(new TextEncoder().encode(stack.agentEnrolmentSecret), 'laptop-cli-1');
    expect(secret).toBe(expected);
    // The endpoint accepts what this secret signs (and only that agent's): what provisioning must achieve.
    const body = JSON.stringify({ collectorId, programId: 'mci', seq: 1, allowed: true, at: new Date().toISOString(), kind: 'heartbeat' });
    const post = (signature: string) =>
      fetch(stack.endpoints.ackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ACK_SIGNATURE_HEADER]: signature },
        body,
      });
    expect((await post(await signAck(secret, body))).status).toBe(202);
    const other = json((await cli(dir, '--local', '--json', 'agents', 'enrol', 'laptop-cli-2')).out).secret as string;
    expect((await post(await signAck(other, body))).status).toBe(401);
    const bad = await cli(dir, '--local', 'agents', 'enrol', 'not an id!');
    expect(bad).toMatchObject({ code: 2, err: expect.stringMatching(/collectorId: must be 1-128/) });
  });

  it('takes the local principal from KILLSWITCH_AS, and prints its version', async () => {
    const out: string[] = [];
    const run = (env: Record<string, string>, ...args: string[]) =>
      main(['--state-dir', dir, ...args], { out: (l) => out.push(l), err: (l) => out.push(l), env });
    expect(await run({ KILLSWITCH_AS: BOB }, '--local', '--json', 'status', '--program', 'mci')).toBe(0);
    expect(json(out.join('\n'))).toMatchObject({ ok: true, result: { action: 'status' } });
    out.length = 0;
    // Without it (and without --as) the local stack cannot tell who is asking.
    expect(await run({}, '--local', 'status', '--program', 'mci')).toBe(2);
    expect(out.join('\n')).toBe('error: --local needs --as <principal> (the identity AWS would verify)');
    out.length = 0;
    expect(await run({}, '--version')).toBe(0);
    expect(out.join('\n')).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('explains bad input with exit code 2', async () => {
    expect(await cli(dir, ...as(ALICE), 'pause', '--program', 'mci')).toMatchObject({
      code: 2,
      err: 'error: a reason is required: --reason <text>, or --reason-file <path> (- for stdin)',
    });
    expect(await cli(dir, ...as(ALICE), 'pause', '--program', 'nope', '--reason', 'x')).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown programId "nope"'),
    });
    expect(await cli(dir, '--local', 'status')).toMatchObject({ code: 2, err: expect.stringContaining('--local needs --as') });
    expect(await cli(dir, '--as', ALICE, 'status')).toMatchObject({ code: 2, err: expect.stringContaining('only with --local') });
    expect(await cli(dir, 'status')).toMatchObject({ code: 2, err: expect.stringContaining('no operator URL') });
    expect(await cli(dir, ...as(ALICE), 'incident', 'list', '--limit', 'lots')).toMatchObject({ code: 2 });
    expect(await cli(join(dir, 'nowhere'), ...as(ALICE), 'status')).toMatchObject({
      code: 1,
      err: expect.stringContaining('no local stack is running'),
    });
  });

  it('reports an unreachable endpoint and missing credentials clearly', async () => {
    const unreachable = await cli(dir, '--url', 'http://127.0.0.1:9/', '--region', 'eu-west-1', 'status');
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/no AWS credentials|cannot reach http:\/\/127\.0\.0\.1:9\//);
  });
});

describe('CLI: what an operator URL answers, over HTTP', () => {
  let server: Server;
  let url: string;
  let answer: (body: string) => { status: number; body: string } = () => ({ status: 200, body: '{}' });
  const received: string[] = [];
  const remote = (...args: string[]) => cli(mkdtempSync(join(tmpdir(), 'ks-cli-url-')), '--url', url, '--region', 'eu-west-1', ...args);

  beforeAll(async () => {
    // The CLI signs with the standard credential chain; any credentials sign.
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        const { status, body: reply } = answer(body);
        response.writeHead(status, { 'content-type': 'application/json' }).end(reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('gives up on an endpoint that accepts and never answers, naming --break-glass; refuses a bad --timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer(() => {}); // reads the request, never answers
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const hung = await cli(
        mkdtempSync(join(tmpdir(), 'ks-cli-url-')),
        '--url',
        silentUrl,
        '--region',
        'eu-west-1',
        '--timeout',
        '1',
        'status',
      );
      expect(hung.code).toBe(1);
      expect(hung.err).toBe(
        `error: ${silentUrl} did not answer within 1 s (--timeout). If the operator API is down, pause through the break-glass function: killswitch pause --break-glass …`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    expect((await remote('--timeout', '0', 'status')).code).toBe(2);
    const out: string[] = [];
    const code = await main(['status'], { out: (l) => out.push(l), err: (l) => out.push(l), env: { KILLSWITCH_TIMEOUT: 'soon' } });
    expect(code).toBe(2);
    expect(out).toEqual(['error: KILLSWITCH_TIMEOUT must be a positive whole number of seconds, got "soon"']);
  });

  it('sends the command as the operator schema has it, and shows the result', async () => {
    const state = {
      programId: 'mci',
      scope: '*',
      status: 'PAUSED',
      version: 2,
      changedAt: '2026-01-02T03:04:05.000Z',
      incidentId: 'inc-20260102-000000000001',
    };
    const results: Record<string, unknown> = {
      status: {
        action: 'status',
        programs: [
          { programId: 'mci', status: 'PAUSED', scopes: [{ ...state, by: 'arn:aws:sts::1:assumed-role/Ops/alice', why: 'leak' }] },
          { programId: 'new', status: 'UNREGISTERED', scopes: [] },
        ],
      },
      pause: {
        action: 'pause',
        outcome: 'PAUSED',
        incidentId: 'inc-20260102-000000000002',
        state,
        reopenedFrom: 'inc-20260102-000000000001',
      },
      'approve-resume': { action: 'approve-resume', request: { requestId: 'r-1', status: 'PENDING' } },
      'resend-failed': {
        action: 'resend-failed',
        incidentId: 'inc-1',
        queued: true,
        notices: { planned: 1, pending: 0, sending: 0, sent: 0, failed: 1 },
      },
      'list-incidents': {
        action: 'list-incidents',
        incidents: [
          {
            incidentId: 'inc-1',
            programId: 'mci',
            scope: '*',
            severity: 'CRITICAL',
            status: 'OPEN',
            action: 'PAUSED',
            openedAt: '2026-01-02T03:04:05.000Z',
          },
        ],
      },
      'request-resume': { action: 'request-resume', request: { requestId: 'r-2', status: 'PENDING' } },
      'restore-grants': { action: 'restore-grants', request: { requestId: 'r-3', incidentId: 'inc-1', status: 'PENDING' } },
      'approve-restore-grants': {
        action: 'approve-restore-grants',
        request: { requestId: 'r-3', incidentId: 'inc-1', status: 'APPROVED' },
        queued: true,
      },
      incident: {
        action: 'incident',
        incident: {
          incidentId: 'inc-1',
          programId: 'mci',
          scope: '*',
          status: 'OPEN',
          severity: 'CRITICAL',
          action: 'PAUSED',
          openedAt: '2026-01-02T03:04:05.000Z',
          openedBy: 'arn:aws:sts::1:assumed-role/Ops/alice',
          datasetIds: ['mouse', 'keystrokes'],
        },
        timeline: [
          { at: '2026-01-02T03:04:05.000Z', type: 'STATE_CHANGED', actor: 'arn:aws:sts::1:assumed-role/Ops/alice', message: 'paused' },
        ],
        audit: [
          {
            version: 2,
            status: 'PAUSED',
            at: '2026-01-02T03:04:05.000Z',
            person: 'alice',
            by: 'arn:aws:sts::1:assumed-role/Ops/alice',
            verified: true,
            reason: 'leak',
          },
        ],
        grants: { revoked: 3, alsoHeld: 1 },
      },
    };
    const dryRun = {
      action: 'pause',
      dryRun: true,
      programId: 'mci',
      scope: 'category#keystrokes',
      wouldStop: { scope: 'category#keystrokes', currentStatus: 'ACTIVE', collectors: 'the collectors of mci in category#keystrokes' },
      wouldRevoke: [{ datasetId: 'keystrokes', grants: 3 }, { datasetId: 'mouse' }],
    };
    const outputs: string[] = [];
    for (const args of [
      ['status'],
      ['--json', 'status', '--program', 'mci'],
      ['pause', '--program', 'mci', '--reason', 'r', '--incident', 'inc-20260102-000000000001'],
      ['resume', 'approve', '--program', 'mci', '--request', 'r-1'],
      ['notify', '--incident', 'inc-1', '--resend-failed'],
      ['incident', 'list'],
      ['pause', '--program', 'mci', '--scope', 'category#keystrokes', '--reason', 'r', '--dry-run'],
      ['resume', 'request', '--program', 'mci', '--reason', 'fixed', '--incident', 'inc-1'],
      ['grants', 'restore', '--incident', 'inc-1', '--reason', 'ok'],
      ['grants', 'approve', '--request', 'r-3'],
      ['incident', 'show', 'inc-1'],
    ]) {
      answer = (body) => {
        const command = JSON.parse(body) as { action: string; dryRun?: boolean };
        return { status: 200, body: JSON.stringify({ ok: true, result: command.dryRun ? dryRun : results[command.action] }) };
      };
      const run = await remote(...args);
      expect(run).toMatchObject({ code: 0, err: '' });
      outputs.push(run.out);
    }
    expect(received.slice(-11)).toEqual([
      '{"action":"status"}',
      '{"action":"status","programId":"mci"}',
      '{"action":"pause","programId":"mci","scope":"*","reason":"r","incidentId":"inc-20260102-000000000001"}',
      '{"action":"approve-resume","programId":"mci","requestId":"r-1"}',
      '{"action":"resend-failed","incidentId":"inc-1","noticeType":"exposure"}',
      '{"action":"list-incidents","limit":20}',
      '{"action":"pause","programId":"mci","scope":"category#keystrokes","reason":"r","dryRun":true}',
      '{"action":"request-resume","programId":"mci","scope":"*","reason":"fixed","incidentId":"inc-1"}',
      '{"action":"restore-grants","incidentId":"inc-1","reason":"ok"}',
      '{"action":"approve-restore-grants","requestId":"r-3"}',
      '{"action":"incident","incidentId":"inc-1"}',
    ]);
    expect(outputs.join('\n---\n')).toMatchInlineSnapshot(`
      "PROGRAM  SCOPE  STATUS        VERSION  CHANGEDAT                 BY                                     WHY   INCIDENTID
      mci      *      PAUSED        2        2026-01-02T03:04:05.000Z  arn:aws:sts::1:assumed-role/Ops/alice  leak  inc-20260102-000000000001
      new             UNREGISTERED
      ---
      {"ok":true,"result":{"action":"status","programs":[{"programId":"mci","status":"PAUSED","scopes":[{"programId":"mci","scope":"*","status":"PAUSED","version":2,"changedAt":"2026-01-02T03:04:05.000Z","incidentId":"inc-20260102-000000000001","by":"arn:aws:sts::1:assumed-role/Ops/alice","why":"leak"}]},{"programId":"new","status":"UNREGISTERED","scopes":[]}]}}
      ---
      PAUSED: mci/* is PAUSED at version 2 (incident inc-20260102-000000000002, continuing inc-20260102-000000000001, which a resume had closed)
      ---
      request r-1 PENDING
      ---
      notices queued for inc-1
      ---
      INCIDENTID  PROGRAMID  SCOPE  SEVERITY  STATUS  ACTION  OPENEDAT
      inc-1       mci        *      CRITICAL  OPEN    PAUSED  2026-01-02T03:04:05.000Z
      ---
      dry run: nothing changed
      would stop:   the collectors of mci in category#keystrokes (mci/category#keystrokes is ACTIVE now)
      would revoke: keystrokes (3 grants), mouse
      ---
      requestId r-2
      A different person approves with: killswitch resume approve --program mci --request r-2
      ---
      requestId r-3
      A different person approves with: killswitch grants approve --request r-3
      ---
      restore r-3 approved; running (see: killswitch incident show inc-1)
      ---
      incident       inc-1
      program        mci (scope *)
      status         OPEN
      severity       CRITICAL
      action         PAUSED
      opened         2026-01-02T03:04:05.000Z by arn:aws:sts::1:assumed-role/Ops/alice
      datasets       mouse, keystrokes
      grants         3 revoked (1 more already revoked by another incident)

      AT                        TYPE           ACTOR                                  MESSAGE
      2026-01-02T03:04:05.000Z  STATE_CHANGED  arn:aws:sts::1:assumed-role/Ops/alice  paused

      VERSION  STATUS  AT                        PERSON  BY                                     VERIFIED  REASON
      2        PAUSED  2026-01-02T03:04:05.000Z  alice   arn:aws:sts::1:assumed-role/Ops/alice  true      leak"
    `);
  });

  it("reports the function's refusal with its issues (exit 3), and an answer that is not the function's by its HTTP status (exit 1)", async () => {
    answer = () => ({
      status: 403,
      body: JSON.stringify({
        ok: false,
        error: { kind: 'REFUSED', message: 'not an operator', issues: [{ path: 'principal', message: 'unknown role' }] },
      }),
    });
    expect(await remote('status')).toMatchObject({ code: 3, out: '', err: 'error: not an operator\n  principal: unknown role' });
    // A Function URL refuses a bad signature itself, before the function runs.
    answer = () => ({ status: 403, body: '{"Message":"Forbidden"}' });
    expect(await remote('status')).toMatchObject({ code: 1, out: '', err: 'error: HTTP 403' });
    expect(await remote('--json', 'status')).toMatchObject({ code: 1, out: '{"Message":"Forbidden"}', err: '' });
    answer = () => ({ status: 502, body: 'Bad Gateway' });
    expect(await remote('status')).toMatchObject({
      code: 1,
      err: expect.stringContaining('answered 502 with something that is not an operator response: Bad Gateway'),
    });
  });
});

describe('CLI: commands and results typed from the operator schemas (checked by tsc)', () => {
  it('sends only what a command schema has, and gets back what the action answers', () => {
    expectTypeOf<CommandFor<'status'>>().toEqualTypeOf<{ action: 'status'; programId?: string | undefined }>();
    // @ts-expect-error a misspelt field is not a field of the pause command
    const _typo: CommandFor<'pause'> = { action: 'pause', programId: 'mci', reason: 'r', dryrun: true };
    // @ts-expect-error a pause needs a reason
    const _noReason: CommandFor<'pause'> = { action: 'pause', programId: 'mci' };
    const status = (target: OperatorTarget) => target.call({ action: 'status', programId: 'mci' });
    expectTypeOf(status).returns.resolves.toEqualTypeOf<OperatorResponse<'status'>>();
    expectTypeOf<OperatorResponse<'status'>['body']>().toEqualTypeOf<OperatorEnvelope<StatusView>>();
    expectTypeOf<OperatorTarget['breakGlass']>().parameter(0).toEqualTypeOf<CommandFor<'pause'>>();
    expectTypeOf<OperatorResult<'pause'>>().toEqualTypeOf<PauseView | DryRunView>();
    expectTypeOf<OperatorResult<'incident'>>().toEqualTypeOf<IncidentView>();
    expectTypeOf<OperatorResult<'approve-restore-grants'>>().toEqualTypeOf<RestoreRequestView>();
    expectTypeOf<OperatorResult<'resend-failed'>>().toEqualTypeOf<NotifyView>();
    // What the operator function answers when no action is named: any action's result.
    expectTypeOf<OperatorEnvelope>().toEqualTypeOf<OperatorEnvelope<OperatorResult>>();
  });
});
