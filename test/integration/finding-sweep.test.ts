import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetFindingsCommand as GetMacie, ListFindingsCommand as ListMacie, Macie2Client } from '@aws-sdk/client-macie2';
import {
  GetFindingsCommand as GetGuardDuty,
  GuardDutyClient,
  ListDetectorsCommand,
  ListFindingsCommand as ListGuardDuty,
} from '@aws-sdk/client-guardduty';
import { GetFindingsCommand as GetSecurityHub, GetFindingsV2Command, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { FindingIntake } from '#shared/findings/intake.ts';
import { FindingRejections } from '#shared/findings/rejections.ts';
import { ResourceMap } from '#shared/findings/resource-map.ts';
import { FindingSweep } from '#shared/findings/sweep.ts';
import {
  GuardDutySweepSource,
  MacieSweepSource,
  SecurityHubOcsfSweepSource,
  SecurityHubSweepSource,
} from '#shared/adapters/findings/sweep-sources.ts';
import type { Pacing } from '#shared/findings/pacing.ts';
import { parseFindingEvent } from '#shared/findings/normalise.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import { FindingLog } from '#shared/adapters/dynamodb/ledger/index.ts';
import { FindingMapSchema } from '#shared/schemas/findings.ts';
import { loadDeploymentConfig } from '#infra/config.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { services } from '../support/fixtures.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A Macie finding as GetFindings returns it: the event's detail, dates as Date objects. */
const macieFinding = (n: number, at: Date): Json => {
  const detail = (sampleFindingEvent('macie', { at, suffix: String(n) }) as unknown as Json).detail;
  return { ...detail, createdAt: new Date(detail.createdAt), updatedAt: new Date(detail.updatedAt) };
};
/** A GuardDuty finding as the SDK returns it: PascalCase member names. */
const pascal = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(pascal)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(v)]))
      : value;
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: { throttling: true } });

describe('Finding sweep', () => {
  let db: TestDynamo;
  let env: ReturnType<typeof build>;
  const sleeps: number[] = [];
  const pacing: Pacing = { minIntervalMs: 0, attempts: 4, baseDelayMs: 100, sleep: async (ms) => void sleeps.push(ms) };

  function build() {
    const s = services(db);
    const findings = new FindingLog(s.ledger);
    const trigger = new AnomalyTrigger(s);
    const handled: string[] = [];
    const counting = {
      handle: async (a: Parameters<AnomalyTrigger['handle']>[0]) => (handled.push(a.anomalyId), trigger.handle(a)),
      coveredBy: (a: Parameters<AnomalyTrigger['coveredBy']>[0]) => trigger.coveredBy(a),
    };
    const intake = new FindingIntake({
      map: new ResourceMap(FindingMapSchema.parse(loadDeploymentConfig().findings)),
      trigger: counting,
      incidents: s.incidents,
      findings,
    });
    const deadLetters: string[] = [];
    const rejections = new FindingRejections(s.alerts, { send: async (body) => void deadLetters.push(body) });
    let now = new Date('2026-11-27T12:00:00Z');
    const sweep = new FindingSweep({
      intake,
      findings,
      rejections,
      clock: () => now,
      initialLookbackMs: 24 * 3_600_000,
      overlapMs: 10 * 60_000,
      maxFindingsPerRun: 1000,
    });
    return { s, findings, intake, sweep, handled, deadLetters, setNow: (d: Date) => (now = d) };
  }

  // A fresh ledger for each case: watermarks and anomaly claims must not carry over.
  beforeEach(async () => {
    db = await startTestDynamo();
    sleeps.length = 0;
    env = build();
  });
  afterEach(() => db.dynamo.stop());

  it('pages through Macie, hands each unseen finding to the trigger once, and records its watermark', async () => {
    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const page1 = [1, 2, 3].map((n) => macieFinding(n + 100, new Date(Date.parse('2026-11-27T10:00:00Z') + n * 60_000)));
    const page2 = [4, 5].map((n) => macieFinding(n + 100, new Date(Date.parse('2026-11-27T10:00:00Z') + n * 60_000)));
    mock
      .on(ListMacie)
      .resolvesOnce({ findingIds: page1.map((f) => f.id), nextToken: 'page-2' })
      .resolvesOnce({ findingIds: page2.map((f) => f.id) });
    mock
      .on(GetMacie)
      .callsFake((input: { findingIds: string[] }) => ({ findings: [...page1, ...page2].filter((f) => input.findingIds.includes(f.id)) }));

    const report = await env.sweep.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({ source: 'macie', listed: 5, handled: 5, alreadyHandled: 0, rejected: 0, complete: true });
    expect(env.handled).toEqual(page1.concat(page2).map((f) => `macie:${f.id}`));
    // First run: a day back. The list filters mirror the rule's (types, severities, not archived).
    const first = mock.commandCalls(ListMacie)[0]!.args[0].input;
    expect(first.findingCriteria?.criterion?.updatedAt?.gte).toBe(Date.parse('2026-11-26T12:00:00Z'));
    expect(first.findingCriteria?.criterion?.['severity.description']?.eq).toEqual(['Medium', 'High']);
    expect(first.sortCriteria).toEqual({ attributeName: 'updatedAt', orderBy: 'ASC' });
    expect(mock.commandCalls(ListMacie)[1]!.args[0].input.nextToken).toBe('page-2');

    // The program is paused once, by the first finding; the others are linked to it.
    const state = await env.s.state.get('mci', '*');
    expect(state?.state).toMatchObject({ status: 'PAUSED', incidentId: expect.stringMatching(/^inc-/) });
    const incident = await env.s.incidents.get(state!.state.incidentId!);
    expect(incident).toMatchObject({
      anomalyId: `macie:${page1[0]!.id}`,
      detector: 'aws.macie',
      action: 'PAUSED',
      datasetIds: ['transcripts'],
    });
    const mark = await env.findings.watermark('macie');
    expect(mark).toMatchObject({ watermark: '2026-11-27T11:50:00.000Z', lastRun: { listed: 5, handled: 5, complete: true } });

    // The next run starts at the watermark less the overlap, and skips what it handled before.
    mock.reset();
    mock.on(ListMacie).resolves({ findingIds: page2.map((f) => f.id) });
    mock.on(GetMacie).resolves({ findings: page2 });
    env.setNow(new Date('2026-11-27T12:15:00Z'));
    const again = await env.sweep.run(new MacieSweepSource(macie, pacing));
    expect(again).toMatchObject({ listed: 2, handled: 0, alreadyHandled: 2, complete: true });
    expect(mock.commandCalls(ListMacie)[0]!.args[0].input.findingCriteria?.criterion?.updatedAt?.gte).toBe(
      Date.parse('2026-11-27T11:40:00Z'),
    );
    // HIGH findings (the policy pauses them) are offered to the trigger again, which finds they add nothing: no write.
    expect(env.handled).toEqual([...page1, ...page2, ...page2].map((f) => `macie:${f.id}`));
    expect((await env.s.state.get('mci', '*'))?.state.version).toBe(state?.state.version);
  });

  it('skips findings the event path already handled: one anomaly key for both paths', async () => {
    const event = sampleFindingEvent('macie', { at: new Date('2026-11-27T11:00:00Z'), suffix: 'evt' });
    const [parsed] = parseFindingEvent(event);
    if (!parsed?.ok) throw new Error('sample must parse');
    await env.intake.handle(parsed.finding);
    const versionAfterEvent = (await env.s.state.get('mci', '*'))?.state.version;

    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const detail = (event as unknown as Json).detail;
    mock.on(ListMacie).resolves({ findingIds: [detail.id] });
    mock.on(GetMacie).resolves({ findings: [{ ...detail, createdAt: new Date(detail.createdAt), updatedAt: new Date(detail.updatedAt) }] });
    const report = await env.sweep.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({ listed: 1, handled: 0, alreadyHandled: 1 });
    // A HIGH finding: the trigger is asked again (the policy pauses it) and finds it a duplicate, writing nothing.
    expect(env.handled).toEqual([`macie:${detail.id}`, `macie:${detail.id}`]);
    expect((await env.s.state.get('mci', '*'))?.state.version).toBe(versionAfterEvent);
  });

  it('backs off when throttled and carries on; gives up after its attempts and keeps the watermark where it stopped', async () => {
    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const findings = [1, 2].map((n) => macieFinding(n + 200, new Date(Date.parse('2026-11-27T09:00:00Z') + n * 60_000)));
    mock
      .on(ListMacie)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolvesOnce({ findingIds: [findings[0]!.id], nextToken: 't2' })
      .rejects(throttled());
    mock.on(GetMacie).resolves({ findings: [findings[0]!] });

    const source = new MacieSweepSource(macie, pacing);
    const report = await env.sweep.run(source);
    expect(source.caller.throttled).toBe(2 + 3);
    expect(sleeps.length).toBe(5);
    expect(sleeps.every((ms) => ms >= 0 && ms <= 100 * 2 ** 3)).toBe(true);
    expect(report).toMatchObject({ listed: 1, handled: 1, complete: false, stoppedBy: 'throttled' });
    // The watermark is the newest finding processed, not the run's time: the rest is listed next run.
    expect((await env.findings.watermark('macie'))?.watermark).toBe(new Date(findings[0]!.updatedAt).toISOString());
  });

  it('stops at its finding limit and resumes from the watermark', async () => {
    const limited = new FindingSweep({
      intake: env.intake,
      findings: env.findings,
      rejections: { reject: async () => {} },
      clock: () => new Date('2026-11-27T12:00:00Z'),
      initialLookbackMs: 3_600_000,
      overlapMs: 0,
      maxFindingsPerRun: 2,
    });
    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const all = [1, 2, 3, 4].map((n) => macieFinding(n + 300, new Date(Date.parse('2026-11-27T11:10:00Z') + n * 60_000)));
    mock
      .on(ListMacie)
      .resolvesOnce({ findingIds: all.slice(0, 2).map((f) => f.id), nextToken: 'more' })
      .resolvesOnce({ findingIds: all.slice(2).map((f) => f.id) });
    mock.on(GetMacie).callsFake((input: { findingIds: string[] }) => ({ findings: all.filter((f) => input.findingIds.includes(f.id)) }));
    const report = await limited.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({ listed: 2, stoppedBy: 'limit', complete: false });
    expect(mock.commandCalls(ListMacie)).toHaveLength(1);
    expect(report.watermark).toBe(new Date(all[1]!.updatedAt).toISOString());
  });

  it('agrees with the event path on re-reports: a finding recorded at 5 and listed at 8 escalates; listed again, it is recorded once', async () => {
    const event = sampleFindingEvent('guardduty', { at: new Date('2026-11-27T09:00:00Z'), suffix: 'rr' }) as unknown as Json;
    event.detail.severity = 5;
    const [parsed] = parseFindingEvent(event);
    if (!parsed?.ok) throw new Error('sample must parse');
    // The policy records MEDIUM (5.0): nothing is paused.
    expect(await env.intake.handle(parsed.finding)).toMatchObject({ outcome: 'HANDLED', anomalies: [{ outcome: 'RECORDED' }] });
    expect((await env.s.state.get('mci', '*'))?.state.status).not.toBe('PAUSED');

    // The update's event is lost; the sweep lists the finding as GuardDuty now has it.
    const raised = { ...event.detail, severity: 8, updatedAt: '2026-11-27T11:00:00.000Z', service: { ...event.detail.service, count: 9 } };
    const guardDuty = new GuardDutyClient({});
    const mock = mockClient(guardDuty);
    mock.on(ListDetectorsCommand).resolves({ DetectorIds: ['det-1'] });
    mock.on(ListGuardDuty).resolves({ FindingIds: [raised.id] });
    mock.on(GetGuardDuty).resolves({ Findings: [pascal(raised)] as never });
    const first = await env.sweep.run(new GuardDutySweepSource(guardDuty, pacing));
    expect(first).toMatchObject({ listed: 1, handled: 1, alreadyHandled: 0 });
    const paused = (await env.s.state.get('mci', '*'))?.state;
    expect(paused?.status).toBe('PAUSED');

    // The next run lists it again (the overlap): covered by the ledger, skipped, and its report not recorded twice.
    env.setNow(new Date('2026-11-27T12:05:00Z'));
    const second = await env.sweep.run(new GuardDutySweepSource(guardDuty, pacing));
    expect(second).toMatchObject({ listed: 1, handled: 0, alreadyHandled: 1 });
    expect((await env.s.state.get('mci', '*'))?.state.version).toBe(paused?.version);
    const [incident] = (await env.s.incidents.list('mci', 10)).filter((i) => i.anomalyId === `guardduty:${raised.id}`);
    expect(incident).toMatchObject({ severity: 'HIGH', action: 'PAUSED' });
    const reports = (await env.s.incidents.timeline(incident!.incidentId)).filter((e) => e.type === 'FINDING_REPORTED');
    expect(reports.map((e) => [e.data?.sourceSeverity, e.data?.outcome])).toEqual([
      ['5.0', 'RECORDED'],
      ['8.0', 'PAUSED'],
    ]);
  });

  it("lists Security Hub OCSF findings with GetFindingsV2: the rule's conditions as composite filters, oldest first", async () => {
    const hub = new SecurityHubClient({});
    const mock = mockClient(hub);
    const ocsf = (sampleFindingEvent('securityhub-ocsf', { at: new Date('2026-11-27T11:40:00Z'), suffix: 'v2' }) as unknown as Json).detail
      .findings[0];
    const suppressed = {
      ...ocsf,
      finding_info: { ...ocsf.finding_info, uid: `${ocsf.finding_info.uid}-s` },
      status_id: 3,
      status: 'Suppressed',
    };
    mock
      .on(GetFindingsV2Command)
      .resolvesOnce({ Findings: [suppressed], NextToken: 'n2' })
      .resolvesOnce({ Findings: [ocsf] });
    const report = await env.sweep.run(new SecurityHubOcsfSweepSource(hub, pacing));
    expect(report).toMatchObject({ source: 'securityhub-ocsf', listed: 2, handled: 1, ignored: { ARCHIVED: 1 }, complete: true });
    expect(env.handled).toEqual([`securityhub:${ocsf.finding_info.uid}`]);
    expect((await env.s.state.get('mci', '*'))?.state.status).toBe('PAUSED');
    const input = mock.commandCalls(GetFindingsV2Command)[0]!.args[0].input;
    expect(input).toMatchObject({ MaxResults: 100, SortCriteria: [{ Field: 'finding_info.modified_time_dt', SortOrder: 'asc' }] });
    expect(input.Filters?.CompositeOperator).toBe('AND');
    expect(input.Filters?.CompositeFilters?.[0]?.DateFilters?.[0]).toMatchObject({
      FieldName: 'finding_info.modified_time_dt',
      Filter: { Start: '2026-11-26T12:00:00.000Z', End: '2026-11-27T12:00:00.000Z' },
    });
    expect(input.Filters?.CompositeFilters?.[1]?.NumberFilters?.map((f) => f.Filter?.Eq)).toEqual([3, 4, 5, 6]);
    expect(mock.commandCalls(GetFindingsV2Command)[1]!.args[0].input.NextToken).toBe('n2');
  });

  it('lists every GuardDuty detector and reads SDK (PascalCase) findings like events', async () => {
    const guardDuty = new GuardDutyClient({});
    const mock = mockClient(guardDuty);
    const detail = (sampleFindingEvent('guardduty', { at: new Date('2026-11-27T11:30:00Z'), suffix: 'gd1' }) as unknown as Json).detail;
    const ec2 = {
      ...detail,
      id: 'ec2-finding',
      type: 'Backdoor:EC2/C&CActivity.B',
      resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-1' } },
    };
    mock.on(ListDetectorsCommand).resolves({ DetectorIds: ['det-1'] });
    mock.on(ListGuardDuty).resolves({ FindingIds: [detail.id, 'ec2-finding'] });
    mock.on(GetGuardDuty).resolves({ Findings: [pascal(detail), pascal(ec2)] as never });
    const report = await env.sweep.run(new GuardDutySweepSource(guardDuty, pacing));
    expect(report).toMatchObject({ listed: 2, handled: 1, ignored: { NOT_RELEVANT: 1 }, complete: true });
    expect(env.handled).toEqual([`guardduty:${detail.id}`]);
    const criterion = mock.commandCalls(ListGuardDuty)[0]!.args[0].input.FindingCriteria?.Criterion;
    expect(criterion?.severity).toEqual({ GreaterThanOrEqual: 4 });
    expect(mock.commandCalls(GetGuardDuty)[0]!.args[0].input).toMatchObject({ DetectorId: 'det-1' });
  });

  it('pages Security Hub, and rejects a malformed finding (alert + queue) without stopping the others', async () => {
    const hub = new SecurityHubClient({});
    const mock = mockClient(hub);
    const good = (sampleFindingEvent('securityhub', { at: new Date('2026-11-27T11:40:00Z'), suffix: 'sh1' }) as unknown as Json).detail
      .findings[0];
    const other = { ...good, Id: `${good.Id}-b`, UpdatedAt: '2026-11-27T11:45:00.000Z' };
    const broken = { ...good, Id: `${good.Id}-bad`, Resources: [] };
    mock
      .on(GetSecurityHub)
      .resolvesOnce({ Findings: [good, broken], NextToken: 'n2' })
      .resolvesOnce({ Findings: [other] });
    const report = await env.sweep.run(new SecurityHubSweepSource(hub, [], pacing));
    expect(report).toMatchObject({ listed: 3, handled: 2, rejected: 1, complete: true });
    expect(env.deadLetters).toHaveLength(1);
    expect(JSON.parse(env.deadLetters[0]!)).toMatchObject({
      via: 'sweep',
      source: 'securityhub',
      findingId: `${good.Id}-bad`,
      issues: [{ path: 'Resources' }],
    });
    const alert = env.s.snsMock
      .calls()
      .map((c) => c.args[0].input as { Subject?: string; Message?: string })
      .find((i) => i.Subject?.includes('malformed'));
    expect(alert?.Message).toContain('Resources: must list at least one resource');
    const filters = mock.commandCalls(GetSecurityHub)[0]!.args[0].input.Filters;
    // No product filter: ProductName is optional in ASFF, and copies are the intake's to recognise (by ProductArn).
    expect(filters?.ProductName).toBeUndefined();
    // This region's copies of sources taken directly are left out by ProductArn (required in ASFF).
    mock.resetHistory();
    await env.sweep.run(new SecurityHubSweepSource(hub, ['arn:aws:securityhub:eu-west-1::product/aws/guardduty'], pacing));
    expect(mock.commandCalls(GetSecurityHub)[0]!.args[0].input.Filters?.ProductArn).toEqual([
      { Value: 'arn:aws:securityhub:eu-west-1::product/aws/guardduty', Comparison: 'NOT_EQUALS' },
    ]);
    expect(filters?.RecordState).toEqual([{ Value: 'ACTIVE', Comparison: 'EQUALS' }]);
  });

  it('reports a source that is not enabled and does not move its start point', async () => {
    const macie = new Macie2Client({});
    mockClient(macie)
      .on(ListMacie)
      .rejects(Object.assign(new Error('Macie is not enabled'), { name: 'AccessDeniedException' }));
    const report = await env.sweep.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({
      listed: 0,
      complete: false,
      stoppedBy: 'error',
      error: expect.stringContaining('AccessDeniedException'),
    });
    // Still the first run's start (a day back): the next run looks as far back again.
    expect(await env.findings.watermark('macie')).toMatchObject({
      watermark: '2026-11-26T12:00:00.000Z',
      lastRun: { listed: 0, complete: false },
    });
  });

  it("never moves its watermark past the run's end, whatever time a finding claims", async () => {
    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const future = macieFinding(900, new Date('9999-01-01T00:00:00Z'));
    mock.on(ListMacie).resolves({ findingIds: [future.id] });
    mock.on(GetMacie).resolves({ findings: [future] });
    const report = await env.sweep.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({ listed: 1, complete: true, watermark: '2026-11-27T12:00:00.000Z' });
    expect((await env.findings.watermark('macie'))?.watermark).toBe('2026-11-27T12:00:00.000Z');
  });

  it('keeps and alerts a finding that parses but cannot become an anomaly, and goes on to the next', async () => {
    const macie = new Macie2Client({});
    const mock = mockClient(macie);
    const [bad, good] = [801, 802].map((n) => macieFinding(n, new Date(Date.parse('2026-11-27T11:00:00Z') + n * 1000)));
    mock.on(ListMacie).resolves({ findingIds: [bad!.id, good!.id] });
    mock.on(GetMacie).resolves({ findings: [bad!, good!] });
    const rejected: string[] = [];
    const sweep = new FindingSweep({
      intake: {
        handle: async (f) => {
          if (f.findingId === bad!.id)
            throw new ValidationError('anomaly from macie finding', [{ path: 'summary', message: 'must be at most 2000 characters' }]);
          return env.intake.handle(f);
        },
      },
      findings: env.findings,
      rejections: { reject: async (r) => void rejected.push(`${r.findingId}: ${r.error.issues[0]?.path}`) },
      clock: () => new Date('2026-11-27T12:00:00Z'),
      initialLookbackMs: 24 * 3_600_000,
      overlapMs: 10 * 60_000,
      maxFindingsPerRun: 1000,
    });
    const report = await sweep.run(new MacieSweepSource(macie, pacing));
    expect(report).toMatchObject({ listed: 2, rejected: 1, handled: 1, complete: true });
    expect(rejected).toEqual([`${bad!.id}: summary`]);
    expect(env.handled).toEqual([`macie:${good!.id}`]);
  });
});
