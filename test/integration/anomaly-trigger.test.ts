import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyTrigger, AnomalyInProgressError } from '#shared/killswitch/trigger.ts';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { UnknownProgramError } from '#shared/domain/errors.ts';
import { DetailType } from '#shared/schemas/domain-events.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { anomaly, operator, program, publishedEvents, services } from '../support/fixtures.ts';

describe('Class: AnomalyTrigger (dynalite)', () => {
  let db: TestDynamo;
  beforeAll(async () => {
    db = await startTestDynamo();
  });
  afterAll(() => db.dynamo.stop());

  const setup = async (programId: string, overrides = {}) => {
    const s = services(db, [program({ programId, ...overrides })]);
    await s.state.register(programId, new Date());
    return { s, trigger: new AnomalyTrigger(s) };
  };

  it('pauses on a CRITICAL anomaly, records the incident, audit and timeline, and publishes Kill Switch Engaged', async () => {
    // Prepare
    const { s, trigger } = await setup('t1');
    // Act
    const result = await trigger.handle(anomaly({ programId: 't1' }));
    // Assess
    expect(result).toMatchObject({ outcome: 'PAUSED', stateVersion: 2, stateChanged: true });
    const { state } = (await s.state.get('t1', '*'))!;
    expect(state).toMatchObject({ status: 'PAUSED', version: 2, trigger: 'ANOMALY', changedBy: 'anomaly' });
    // Who and why are the ledger's: the item collectors read names neither the detector nor its text.
    expect(JSON.stringify(state)).not.toMatch(/access-monitor|readable by all-staff/);
    const incident = await s.incidents.get(result.incidentId);
    expect(incident).toMatchObject({ action: 'PAUSED', datasetIds: ['transcripts'], severity: 'CRITICAL', status: 'OPEN' });
    expect(await s.audit.history('t1', '*')).toEqual([
      expect.objectContaining({ version: 2, status: 'PAUSED', incidentId: result.incidentId, by: 'detector:access-monitor' }),
    ]);
    const timeline = await s.incidents.timeline(result.incidentId);
    expect(timeline.map((t) => t.type).sort()).toEqual(['INCIDENT_FACTS', 'INCIDENT_OPENED', 'STATE_CHANGED']);
    const events = publishedEvents(s.ebMock);
    expect(events).toEqual([
      {
        detailType: DetailType.KillSwitchEngaged,
        detail: expect.objectContaining({ incidentId: result.incidentId, stateVersion: 2, datasetIds: ['transcripts'] }),
      },
    ]);
    expect(s.snsMock.calls()).toHaveLength(1);
  });

  it('records MEDIUM anomalies without pausing (default policy), and pauses them when the program says so', async () => {
    const { s, trigger } = await setup('t2');
    const recorded = await trigger.handle(anomaly({ programId: 't2', severity: 'MEDIUM' }));
    expect(recorded.outcome).toBe('RECORDED');
    expect((await s.state.get('t2', '*'))!.state.status).toBe('ACTIVE');
    expect(publishedEvents(s.ebMock)).toHaveLength(0);

    const strict = await setup('t2b', { severityPolicy: { MEDIUM: 'PAUSE' } });
    const paused = await strict.trigger.handle(anomaly({ programId: 't2b', severity: 'MEDIUM' }));
    expect(paused.outcome).toBe('PAUSED');
  });

  it('handles the same anomaly delivered three times at once: one incident, one version bump', async () => {
    const { s, trigger } = await setup('t3');
    const event = anomaly({ programId: 't3', anomalyId: 'dup-1' });
    const results = await Promise.allSettled([trigger.handle(event), trigger.handle(event), trigger.handle(event)]);
    const done = results.filter((r) => r.status === 'fulfilled');
    const busy = results.filter((r) => r.status === 'rejected');
    expect(done.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AnomalyInProgressError);
    // The redeliveries that were told to retry find the work done.
    for (let i = 0; i < busy.length; i++) expect((await trigger.handle(event)).outcome).toBe('DUPLICATE');

    expect((await s.state.get('t3', '*'))!.state.version).toBe(2);
    expect(await s.audit.history('t3', '*')).toHaveLength(1);
    expect((await s.incidents.list('t3')).length).toBe(1);
  });

  it('links a second anomaly to the incident that already paused the scope', async () => {
    const { s, trigger } = await setup('t4');
    const first = await trigger.handle(anomaly({ programId: 't4', anomalyId: 'a' }));
    const second = await trigger.handle(anomaly({ programId: 't4', anomalyId: 'b', datasetIds: ['mouse'] }));
    expect(second).toMatchObject({ outcome: 'LINKED', stateVersion: 2, stateChanged: false });
    expect(await s.incidents.get(second.incidentId)).toMatchObject({ linkedIncidentId: first.incidentId, datasetIds: ['mouse'] });
    expect(await s.audit.history('t4', '*')).toHaveLength(1);
  });

  it('does not pause again when an anomaly is redelivered after its incident was resumed', async () => {
    const { s, trigger } = await setup('t5');
    const event = anomaly({ programId: 't5', anomalyId: 'late' });
    const first = await trigger.handle(event);
    const actions = new OperatorActions(s);
    const req = await actions.resumes.request(
      { action: 'request-resume', programId: 't5', scope: '*', reason: 'fixed', incidentId: first.incidentId },
      operator('alice'),
    );
    await actions.resumes.approve({ action: 'approve-resume', programId: 't5', requestId: req.request.requestId }, operator('bob'));

    const again = await trigger.handle(event);
    expect(again.outcome).toBe('DUPLICATE');
    expect((await s.state.get('t5', '*'))!.state).toMatchObject({ status: 'ACTIVE', version: 3 });
  });

  it('rejects an unknown program without writing anything', async () => {
    const { s, trigger } = await setup('t6');
    await expect(trigger.handle(anomaly({ programId: 'nobody' }))).rejects.toBeInstanceOf(UnknownProgramError);
    expect(await s.state.get('nobody', '*')).toBeUndefined();
    expect(publishedEvents(s.ebMock)).toHaveLength(0);
  });

  it('reports unknown datasets in the incident and acts on the known ones', async () => {
    const { s, trigger } = await setup('t7');
    const result = await trigger.handle(anomaly({ programId: 't7', datasetIds: ['mouse', 'payroll'] }));
    expect(await s.incidents.get(result.incidentId)).toMatchObject({ datasetIds: ['mouse'], unknownDatasetIds: ['payroll'] });
  });

  it('pauses only the named scope', async () => {
    const { s, trigger } = await setup('t8');
    await trigger.handle(anomaly({ programId: 't8', scope: 'category#keystrokes' }));
    expect((await s.state.get('t8', '*'))!.state.status).toBe('ACTIVE');
    expect((await s.state.get('t8', 'category#keystrokes'))!.state.status).toBe('PAUSED');
  });

  it('gives its claim up when it fails mid-way, so the next delivery takes over at once', async () => {
    const { s, trigger } = await setup('t9');
    s.ebMock
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('bus unavailable'), { name: 'InternalException' }))
      .callsFake(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-retry' }] }));
    const a = anomaly({ programId: 't9' });
    await expect(trigger.handle(a)).rejects.toThrow('bus unavailable');
    // Not "in progress": the retry proceeds now, not after the claim timeout.
    const retried = await trigger.handle(a);
    expect(retried).toMatchObject({ outcome: 'PAUSED', stateVersion: 2, stateChanged: true });
    expect(await trigger.handle(a)).toMatchObject({ outcome: 'DUPLICATE' });
    expect(await s.audit.history('t9', '*')).toHaveLength(1);
  });
});
