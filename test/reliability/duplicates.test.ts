import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { AnomalyInProgressError, AnomalyTrigger, type TriggerOutcome } from '#shared/killswitch/trigger.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { LedgerTable, NoticeLedger, RevocationLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import type { WorkQueue } from '#shared/adapters/aws/work-queue.ts';
import type { SendBatch } from '#shared/schemas/notices.ts';
import type { Grant } from '#shared/schemas/grants.ts';
import { DetailType, KILLSWITCH_SOURCE, type KillSwitchEngaged } from '#shared/schemas/domain-events.ts';
import type { TestDynamo } from '../support/dynamo.ts';
import { anomaly, program, publishedEvents, services } from '../support/fixtures.ts';
import { ALICE, BOB, drainGateway, operatorCall } from '../support/local.ts';

const TIMES = 100;
const COPIES = 3;
const times = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
const hex12 = (i: number) => i.toString(16).padStart(12, '0');

describe(`Duplicates: every entry point delivered ${COPIES}× at once, ${TIMES} times over (counts on the emulators)`, () => {
  let stack: LocalStack;
  let ledger: LedgerTable;
  let s: ReturnType<typeof services>;
  const programs = [program({ programId: 'mci' }), ...times(TIMES, (i) => program({ programId: `dup-${i}` }))];

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedGrants(stack, 2);
    await seedDataSubjects(stack, TIMES * 10);
    ledger = new LedgerTable(dynamoDocumentClient(), stack.tables.ledger);
    // The trigger use case on the stack's own tables, with a registry of 101 programs (more than
    // the sample configuration's one), so that each anomaly can have a program of its own.
    s = services({ doc: dynamoDocumentClient(), tables: stack.tables } as unknown as TestDynamo, programs);
    for (const p of programs.slice(1)) await s.state.register(p.programId, new Date());
  }, 180_000);
  afterAll(() => stack?.stop());

  it('anomaly events: exactly one pause, one incident and one audit entry per anomaly', async () => {
    const trigger = new AnomalyTrigger(s);
    /**
     * EventBridge's side: a delivery that failed is delivered again — in production after the
     * trigger queue's visibility timeout, by when the anomaly's other deliveries under way have
     * ended; here as soon as they have (not after a fixed sleep: that raced a slow machine).
     */
    const deliver = async (a: ReturnType<typeof anomaly>, underWay: Set<Promise<unknown>>): Promise<TriggerOutcome> => {
      for (let attempt = 1; ; attempt++) {
        const delivery = trigger.handle(a);
        underWay.add(delivery);
        try {
          return await delivery;
        } catch (error) {
          if (!(error instanceof AnomalyInProgressError) || attempt > 5) throw error;
          underWay.delete(delivery);
          await Promise.allSettled([...underWay]);
        } finally {
          underWay.delete(delivery);
        }
      }
    };
    const outcomes = await Promise.all(
      times(TIMES, (i) => {
        const a = anomaly({ anomalyId: `dup-anomaly-${i}`, programId: `dup-${i}`, observedAt: new Date().toISOString() });
        const underWay = new Set<Promise<unknown>>();
        return Promise.all(times(COPIES, () => deliver(a, underWay)));
      }),
    );
    for (const [i, copies] of outcomes.entries()) {
      expect(copies.map((o) => o.outcome).sort(), `anomaly ${i}`).toEqual(['DUPLICATE', 'DUPLICATE', 'PAUSED']);
      expect(new Set(copies.map((o) => o.incidentId)).size).toBe(1);
      const state = (await s.state.get(`dup-${i}`, '*'))!.state;
      expect(state).toMatchObject({ status: 'PAUSED', version: 2, incidentId: copies[0]!.incidentId });
      expect(await s.audit.history(`dup-${i}`, '*')).toHaveLength(1);
      expect(await s.incidents.get(copies[0]!.incidentId)).toMatchObject({ anomalyId: `dup-anomaly-${i}`, action: 'PAUSED' });
    }
    expect(publishedEvents(s.ebMock).filter((e) => e.detailType === DetailType.KillSwitchEngaged)).toHaveLength(TIMES);
  }, 120_000);

  it('Kill Switch Engaged: each grant revoked once per incident, owners never', async () => {
    const datasetIds = stack.config.programs[0]!.datasetIds;
    const incidents = times(TIMES, (i) => `inc-20261127-${hex12(0xd0000 + i)}`);
    const eventBridge = new EventBridgeClient({});
    // The incidents as the ledger records them (the worker acts on the ledger, never on the event).
    for (const incidentId of incidents) {
      await s.incidents.open({
        incidentId,
        programId: 'mci',
        scope: '*',
        severity: 'CRITICAL',
        status: 'OPEN',
        action: 'PAUSED',
        openedAt: new Date().toISOString(),
        openedBy: 'test',
        trigger: 'ANOMALY',
        datasetIds: [...datasetIds],
        unknownDatasetIds: [],
        notify: 'manual',
        revision: 1,
        inputIssues: [],
      });
    }
    await Promise.all(
      incidents.map(async (incidentId) => {
        const engaged: KillSwitchEngaged = {
          incidentId,
          programId: 'mci',
          scope: '*',
          stateVersion: 2,
          stateChanged: true,
          datasetIds: [...datasetIds],
          severity: 'CRITICAL',
          trigger: 'ANOMALY',
          notify: 'manual',
          engagedAt: new Date().toISOString(),
        };
        const entry = {
          EventBusName: stack.domainBusName,
          Source: KILLSWITCH_SOURCE,
          DetailType: DetailType.KillSwitchEngaged,
          Detail: JSON.stringify(engaged),
        };
        const out = await eventBridge.send(new PutEventsCommand({ Entries: times(COPIES, () => entry) }));
        expect(out.FailedEntryCount).toBe(0);
      }),
    );
    await stack.idle();

    const grants = new DynamoGrantStore(dynamoDocumentClient(), stack.tables.grants);
    const all: Grant[] = [];
    for (const datasetId of datasetIds) all.push(...(await grants.list(datasetId, undefined, 1000)).grants);
    const readers = all.filter((g) => !g.owner);
    expect(readers.length).toBeGreaterThan(0);
    for (const g of all.filter((g) => g.owner)) expect(g).toMatchObject({ status: 'ACTIVE', revokedByIncidents: [] });
    for (const g of readers) {
      // Held by every incident, each exactly once. A hold is not a change of the grant: its version
      // (which restore compares) stays where the owner left it.
      expect([...g.revokedByIncidents].sort()).toEqual([...incidents].sort());
      expect(g).toMatchObject({ status: 'REVOKED', version: 1 });
    }
    // The quarantined bucket holds each incident's statements at most once, whatever the deliveries
    // (killswitch's own writers of one policy take turns under a lease: none loses another's). A
    // hundred incidents do not fit in S3's 20 KB: those that did not fit are reported as not
    // revoked, never passed off as done, and every incident is in exactly one of the two.
    const quarantined = stack.config.datasets.filter((d) => d.access.bucketPolicy && datasetIds.includes(d.datasetId));
    expect(quarantined).toHaveLength(1);
    const bucket = quarantined[0]!.access.bucketPolicy!.bucket;
    const inPolicy = quarantinesIn(bucket, stack.bucketPolicies!.policy(bucket));
    expect(new Set(inPolicy).size).toBe(inPolicy.length);
    expect(inPolicy.length).toBeGreaterThan(0);
    const revocations = new RevocationLedger(ledger);
    for (const incidentId of incidents) {
      // One revocation snapshot per grant (and quarantine) and incident, whatever the number of deliveries.
      const counts = await revocations.counts(incidentId);
      const quarantine = inPolicy.includes(incidentId) ? 1 : 0;
      expect(counts.revoked + counts.alsoHeld, incidentId).toBe(readers.length + quarantine);
      expect(counts.byBackend, incidentId).toEqual({ dynamodb: readers.length, ...(quarantine ? { bucketPolicy: 1 } : {}) });
      expect(counts.notRevoked, incidentId).toBe(1 - quarantine);
      if (!quarantine) expect((await revocations.unrevoked(incidentId))[0]?.reason, incidentId).toMatch(/20 ?KB|20480|too large|limit/i);
      expect((await revocations.snapshots(incidentId, undefined, 1000)).snapshots).toHaveLength(readers.length + quarantine);
    }
  }, 180_000);

  it('notice batches: one notice per employee', async () => {
    const trigger = new AnomalyTrigger(s);
    const { incidentId } = await trigger.handle(
      anomaly({ anomalyId: 'dup-notices', programId: 'mci', datasetIds: ['keystrokes'], observedAt: new Date().toISOString() }),
    );
    const planned: SendBatch[] = [];
    const notices = new NoticeLedger(ledger);
    const planner = new NoticePlanner({
      subjects: new DataSubjectStore(dynamoDocumentClient(), stack.tables.dataSubjects),
      notices,
      sendQueue: { enqueue: async (b: SendBatch) => void planned.push(b) } as unknown as WorkQueue<SendBatch>,
    });
    await planner.run(
      { type: 'plan', incidentId, programId: 'mci', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 },
      { hasTime: () => true },
      ['keystrokes'],
    );
    const employees = planned.flatMap((b) => b.employeeIds);
    expect(employees).toHaveLength(TIMES * 10);
    // 100 batches of 10, each delivered three times at once to the real sender function. As SQS
    // does, a delivery that fails (a copy finds the notices claimed by another, unfinished copy)
    // comes back later with its receive count up: after its visibility timeout, which is longer
    // than the sender's timeout, so by then the batch's other deliveries under way have ended
    // (a fixed sleep instead made the test depend on how fast this machine was that minute).
    const batches: SendBatch[] = times(TIMES, (i) => ({
      type: 'send',
      incidentId,
      noticeType: 'exposure',
      employeeIds: employees.slice(i * 10, i * 10 + 10),
    }));
    let redeliveries = 0;
    const underWay = batches.map(() => new Set<Promise<unknown>>());
    const deliver = async (i: number, id: string) => {
      for (let receive = 1; ; receive++) {
        const delivery = stack.functions.invoke('send-notices', {
          Records: [{ messageId: id, body: JSON.stringify(batches[i]), attributes: { ApproximateReceiveCount: String(receive) } }],
        });
        underWay[i]!.add(delivery);
        try {
          return await delivery;
        } catch (error) {
          if (receive >= 4) throw error;
          redeliveries++;
          underWay[i]!.delete(delivery);
          await Promise.allSettled([...underWay[i]!]);
        } finally {
          underWay[i]!.delete(delivery);
        }
      }
    };
    await Promise.all(batches.map((_, i) => Promise.all(times(COPIES, (copy) => deliver(i, `b${i}-${copy}`)))));
    expect(redeliveries).toBeLessThan(TIMES * COPIES);
    await stack.idle();
    const delivered = (await drainGateway(stack)).filter((d) => d.incidentId === incidentId);
    expect(delivered).toHaveLength(employees.length);
    expect(new Set(delivered.map((d) => d.employeeId)).size).toBe(employees.length);
    expect(await notices.counts(incidentId)).toMatchObject({
      planned: employees.length,
      sent: employees.length,
      failed: 0,
      pending: 0,
      sending: 0,
    });
  }, 180_000);

  it('operator commands retried by a client: one pause, one request, one resume per command', async () => {
    const versionBefore = (await s.state.get('mci', '*'))!.state.version;
    const auditBefore = (await s.audit.history('mci', '*')).length;
    const stateNow = async () => (await s.state.get('mci', '*'))!.state;
    if ((await stateNow()).status === 'PAUSED') {
      // Start from ACTIVE: resume the pause left by the notices case.
      const open = await stateNow();
      const r = await operatorCall(stack, ALICE, {
        action: 'request-resume',
        programId: 'mci',
        reason: 'clean start',
        incidentId: open.incidentId,
      });
      expect(
        (await operatorCall(stack, BOB, { action: 'approve-resume', programId: 'mci', requestId: r.body.result.request.requestId })).status,
      ).toBe(200);
    }
    const start = await stateNow();
    const requestIds = new Set<string>();
    for (let i = 0; i < TIMES; i++) {
      const pause = { action: 'pause', programId: 'mci', reason: `report ${i}`, idempotencyKey: `dup-pause-${i}` };
      const paused = await Promise.all(times(COPIES, () => operatorCall(stack, ALICE, pause)));
      expect(paused.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(paused.map((r) => r.body.result.incidentId)).size).toBe(1);

      const request = {
        action: 'request-resume',
        programId: 'mci',
        reason: `fixed ${i}`,
        incidentId: paused[0]!.body.result.incidentId,
        idempotencyKey: `dup-request-${i}`,
      };
      const requested = await Promise.all(times(COPIES, () => operatorCall(stack, ALICE, request)));
      const ids = new Set(requested.map((r) => r.body.result.request.requestId));
      expect(ids.size).toBe(1);
      const [requestId] = ids;
      requestIds.add(requestId as string);

      const approved = await Promise.all(
        times(COPIES, () => operatorCall(stack, BOB, { action: 'approve-resume', programId: 'mci', requestId })),
      );
      expect(
        approved.map((r) => r.status),
        JSON.stringify(approved.map((r) => r.body)),
      ).toEqual([200, 200, 200]);
    }
    const end = await stateNow();
    expect(requestIds.size).toBe(TIMES);
    // Two versions per cycle (one pause, one resume), whatever the retries.
    expect(end).toMatchObject({ status: 'ACTIVE', version: start.version + 2 * TIMES });
    expect((await s.audit.history('mci', '*')).length - auditBefore).toBe(end.version - versionBefore);
    for (const requestId of requestIds) expect(await s.approvals.get(requestId)).toMatchObject({ status: 'APPROVED' });
  }, 300_000);
});
