import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { anomalyIdOf } from '#shared/findings/normalise.ts';
import { drain, ledgerOf } from '../support/local.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CORPUS = join(import.meta.dirname, '../fixtures/aws-events');

describe('Local stack: a finding AWS reports again with a higher severity', () => {
  let stack: LocalStack;
  let ledger: ReturnType<typeof ledgerOf>;
  const t0 = new Date(Date.now() - 3 * 3_600_000);
  const first = sampleFindingEvent('guardduty', { at: t0, suffix: 'rereport1' }) as unknown as Json;
  /** The same finding as GuardDuty sends it again: same id, a later update, more occurrences, perhaps a new severity. */
  const update = (hours: number, severity: number, count: number): Json => {
    const event = structuredClone(first);
    event.id = `${first.id.slice(0, 24)}${String(hours).padStart(12, '0')}`;
    event.time = new Date(t0.getTime() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    event.detail.severity = severity;
    event.detail.updatedAt = new Date(t0.getTime() + hours * 3_600_000).toISOString();
    event.detail.service.count = count;
    event.detail.service.eventLastSeen = event.detail.updatedAt;
    return event;
  };
  const emit = async (event: Json) => {
    const id = stack.bus.emitServiceEvent(event as never);
    await stack.idle();
    expect(stack.functions.log.filter((l) => l.function === 'finding-trigger').at(-1)?.ok).toBe(true);
    return stack.bus.journal.find((j) => j.event.id === id)!;
  };
  const incident = async () =>
    (await ledger.incidents.list('mci', 50)).find((i) => i.anomalyId === anomalyIdOf('guardduty', first.detail.id));
  const reports = async (incidentId: string) =>
    (await ledger.incidents.timeline(incidentId)).filter((e) => e.type === 'FINDING_REPORTED').map((e) => e.data);

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    ledger = ledgerOf(stack);
  }, 120_000);
  afterAll(() => stack?.stop());

  it('records the first report at severity 5 (MEDIUM: the policy records), then pauses when AWS sends it again at 8', async () => {
    first.detail.severity = 5;
    first.detail.service.count = 3;
    expect((await emit(first)).rules).toEqual(['FindingTriggersGuardDutyRule']);
    expect((await ledger.state.get('mci', '*'))?.state).toMatchObject({ status: 'ACTIVE', version: 1 });
    expect(await incident()).toMatchObject({ severity: 'MEDIUM', action: 'RECORDED', status: 'OPEN' });

    const raised = update(1, 8, 7);
    expect((await emit(raised)).rules).toEqual(['FindingTriggersGuardDutyRule']);
    const state = (await ledger.state.get('mci', '*'))?.state;
    expect(state).toMatchObject({ status: 'PAUSED', version: 2, trigger: 'ANOMALY' });
    const escalated = await incident();
    expect(escalated).toMatchObject({ severity: 'HIGH', action: 'PAUSED', stateVersion: 2, datasetIds: ['keystrokes'] });
    expect(state?.incidentId).toBe(escalated!.incidentId);

    // The incident holds both reports, in the source's words, and the escalation between them.
    const timeline = await ledger.incidents.timeline(escalated!.incidentId);
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['INCIDENT_OPENED', 'ESCALATED', 'FINDING_REPORTED']));
    expect(await reports(escalated!.incidentId)).toEqual([
      expect.objectContaining({
        sourceSeverity: '5.0',
        count: 3,
        severity: 'MEDIUM',
        outcome: 'RECORDED',
        updatedAt: first.detail.updatedAt,
      }),
      expect.objectContaining({ sourceSeverity: '8.0', count: 7, severity: 'HIGH', outcome: 'PAUSED', updatedAt: raised.detail.updatedAt }),
    ]);
    expect(stack.bus.journal.filter((j) => j.event['detail-type'] === 'Kill Switch Engaged')).toHaveLength(1);
  });

  it('records a later update that changes nothing as an update, once, however often it is delivered', async () => {
    const again = update(2, 8, 9);
    await emit(again);
    await emit({ ...again, id: `${again.id.slice(0, 24)}999999999999` });
    const { incidentId } = (await incident())!;
    expect((await ledger.state.get('mci', '*'))?.state.version).toBe(2);
    const all = await reports(incidentId);
    expect(all).toHaveLength(3);
    expect(all[2]).toMatchObject({ sourceSeverity: '8.0', count: 9, outcome: 'DUPLICATE', updatedAt: again.detail.updatedAt });
    const entry = (await ledger.incidents.timeline(incidentId)).filter((e) => e.type === 'FINDING_REPORTED').at(-1);
    expect(entry?.message).toMatch(
      /^Amazon GuardDuty reported Exfiltration:S3\/AnomalousBehavior .* at severity 8\.0, seen 9 times, .*: nothing new to act on/,
    );
  });

  it('takes every event of the corpus through the deployed rules and the trigger: none is rejected, none fails', async () => {
    const files = readdirSync(CORPUS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(30);
    const before = stack.functions.log.length;
    for (const file of files) stack.bus.emitServiceEvent(JSON.parse(readFileSync(join(CORPUS, file), 'utf8')));
    await stack.idle();
    const invocations = stack.functions.log.slice(before).filter((l) => l.function === 'finding-trigger');
    expect(invocations.length).toBeGreaterThan(0);
    expect(invocations.every((l) => l.ok)).toBe(true);
    expect(await drain(stack, 'FindingTriggersRejectedFindings')).toEqual([]);
  });
});
