import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedDataSubjects, seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { NoticePublisher } from '#shared/adapters/aws/notice-publisher.ts';
import { WorkQueue } from '#shared/adapters/aws/work-queue.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { IncidentLedger, LedgerTable, NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import type { PlanWork, SendBatch } from '#shared/schemas/notices.ts';
import { ALICE, drainGateway, operatorCall, putAnomaly } from '../support/local.ts';

const EMPLOYEES = 5000;
const unlimited = { hasTime: () => true };

const expectedCategories = (i: number) =>
  [['keystrokes'], i % 3 !== 0 ? ['mouse-activity'] : [], i % 2 === 0 ? ['chat-transcripts'] : []].flat().sort();

async function raiseIncident(stack: LocalStack, anomalyId: string): Promise<string> {
  const before = new Set(stack.bus.journal.map((j) => j.event.id));
  await putAnomaly(stack, {
    anomalyId,
    datasetIds: [],
    exposure: {
      audience: 'all-staff',
      principals: ['group:all-staff'],
      window: { start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' },
    },
  });
  await stack.idle();
  const engaged = stack.bus.journal.find((j) => !before.has(j.event.id) && j.event['detail-type'] === 'Kill Switch Engaged');
  return (engaged!.event.detail as { incidentId: string }).incidentId;
}

describe('Exposure notices on the local stack (dynalite + fauxqs)', () => {
  let stack: LocalStack;
  let ledger: LedgerTable;
  let subjects: DataSubjectStore;
  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedDataSubjects(stack, EMPLOYEES);
    ledger = new LedgerTable(dynamoDocumentClient(), stack.tables.ledger);
    subjects = new DataSubjectStore(dynamoDocumentClient(), stack.tables.dataSubjects);
  }, 120_000);
  afterAll(() => stack?.stop());

  it(`tells ${EMPLOYEES} employees across overlapping datasets exactly once each, with their categories, despite three concurrent plannings`, async () => {
    const incidentId = await raiseIncident(stack, 'notices-1');
    const work: PlanWork = { type: 'plan', incidentId, programId: 'mci', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 };
    const planner = new NoticePlanner({
      subjects,
      notices: new NoticeLedger(ledger),
      sendQueue: new WorkQueue<SendBatch>(new SQSClient({}), stack.queues.ExposureNoticesSendWork!),
    });
    // One planning through the operator's notify, two more at once directly.
    const [notify, ...direct] = await Promise.all([
      operatorCall(stack, ALICE, { action: 'notify', incidentId }),
      planner.run(work, unlimited, ['keystrokes', 'mouse', 'transcripts']),
      planner.run(work, unlimited, ['keystrokes', 'mouse', 'transcripts']),
    ]);
    expect(notify.status).toBe(200);
    expect(direct.reduce((n, d) => n + (d.done ? d.planned : 0), 0)).toBeLessThanOrEqual(EMPLOYEES);
    await stack.idle();

    const delivered = await drainGateway(stack);
    const byEmployee = new Map(delivered.map((d) => [d.employeeId, d]));
    expect(delivered).toHaveLength(EMPLOYEES);
    expect(byEmployee.size).toBe(EMPLOYEES);
    for (const i of [0, 1, 2, 3, 4999]) {
      const notice = byEmployee.get(`E${String(i).padStart(6, '0')}`)!;
      expect(notice.incidentId).toBe(incidentId);
      expect(notice.categories).toEqual(expectedCategories(i));
    }
    // An employee asks what they were sent (Art. 15): the text rebuilt from the ledger is the one delivered, to the character.
    for (const i of [0, 4999]) {
      const employeeId = `E${String(i).padStart(6, '0')}`;
      const shown = await operatorCall(stack, ALICE, { action: 'notice', incidentId, employeeId });
      expect(shown.body).toMatchObject({
        ok: true,
        result: { action: 'notice', reproduced: 'EXACT', entry: { status: 'SENT', employeeId, messageId: expect.any(String) } },
      });
      expect(shown.body.result.text).toBe(byEmployee.get(employeeId)!.text);
      expect(shown.body.result.templateId).toBe(byEmployee.get(employeeId)!.templateId);
    }
    const stranger = await operatorCall(stack, ALICE, { action: 'notice', incidentId, employeeId: 'nobody-here' });
    expect(stranger.body).toMatchObject({ ok: false, error: { kind: 'NOT_FOUND', message: expect.stringContaining('nobody-here') } });
    expect(await new NoticeLedger(ledger).counts(incidentId)).toMatchObject({
      planned: EMPLOYEES,
      sent: EMPLOYEES,
      failed: 0,
      pending: 0,
      sending: 0,
    });
  }, 240_000);

  it('delivers everything after an SNS outage mid-way, nothing twice', async () => {
    const incidentId = await raiseIncident(stack, 'notices-outage');
    const notices = new NoticeLedger(ledger);
    const batches: SendBatch[] = [];
    const planner = new NoticePlanner({
      subjects,
      notices,
      sendQueue: { enqueue: async (b: SendBatch) => void batches.push(b) } as unknown as WorkQueue<SendBatch>,
    });
    await planner.run(
      { type: 'plan', incidentId, programId: 'mci', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 },
      unlimited,
      ['mouse'],
    );
    const affected = batches.reduce((n, b) => n + b.employeeIds.length, 0);

    // SNS fails every PublishBatch between the 20th and the 60th call: a delivery makes at least
    // one call (a batch whose first chunks went out before the outage retries only the rest), so
    // at most 40 deliveries of one batch fail.
    const sns = new SNSClient({});
    let calls = 0;
    sns.middlewareStack.add(
      (next) => async (args) => {
        calls++;
        if (calls > 20 && calls <= 60)
          throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $retryable: {} });
        return next(args);
      },
      { step: 'initialize', name: 'outage' },
    );
    const sender = new NoticeSender({
      notices,
      incidents: new IncidentLedger(ledger),
      publisher: new NoticePublisher(sns, stack.topics.ExposureNotices!),
      settings: { organisation: 'Example Corp', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' },
    });
    // SQS redelivers a batch with failures until it succeeds (here: up to 41 deliveries).
    let failedDeliveries = 0;
    for (const batch of batches) {
      for (let attempt = 1; attempt <= 41; attempt++) {
        const report = await sender.send(batch, { lastAttempt: attempt === 41 });
        if (!report.failed.length) break;
        failedDeliveries++;
      }
    }
    expect(failedDeliveries).toBeGreaterThan(0);

    const delivered = (await drainGateway(stack)).filter((d) => d.incidentId === incidentId);
    expect(delivered).toHaveLength(affected);
    expect(new Set(delivered.map((d) => d.employeeId)).size).toBe(affected);
    expect(await notices.counts(incidentId)).toMatchObject({ planned: affected, sent: affected, failed: 0 });
  }, 240_000);

  it('marks notices FAILED with the error when the last delivery fails, and resend-failed sends them once', async () => {
    const incidentId = await raiseIncident(stack, 'notices-failed');
    const notices = new NoticeLedger(ledger);
    const batches: SendBatch[] = [];
    const planner = new NoticePlanner({
      subjects,
      notices,
      sendQueue: { enqueue: async (b: SendBatch) => void batches.push(b) } as unknown as WorkQueue<SendBatch>,
    });
    await planner.run(
      { type: 'plan', incidentId, programId: 'mci', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 },
      unlimited,
      ['transcripts'],
    );
    const down = new SNSClient({});
    down.middlewareStack.add(() => async () => Promise.reject(Object.assign(new Error('Topic unavailable'), { name: 'InternalError' })), {
      step: 'initialize',
      name: 'down',
    });
    const sender = new NoticeSender({
      notices,
      incidents: new IncidentLedger(ledger),
      publisher: new NoticePublisher(down, stack.topics.ExposureNotices!),
      settings: { organisation: 'Example Corp', contact: {}, defaultLocale: 'en' },
    });
    const report = await sender.send(batches[0]!, { lastAttempt: true });
    expect(report.failed).toHaveLength(batches[0]!.employeeIds.length);
    const entry = await notices.get(incidentId, 'exposure', batches[0]!.employeeIds[0]!);
    expect(entry).toMatchObject({ status: 'FAILED', error: 'InternalError: Topic unavailable', attempts: 1 });

    // Send the other batches normally, then resend the failed ones through the operator.
    for (const batch of batches.slice(1))
      await stack.functions.invoke('send-notices', {
        Records: [{ messageId: 'm', body: JSON.stringify(batch), attributes: { ApproximateReceiveCount: '1' } }],
      });
    expect((await operatorCall(stack, ALICE, { action: 'resend-failed', incidentId })).status).toBe(200);
    await stack.idle();
    const delivered = (await drainGateway(stack)).filter((d) => d.incidentId === incidentId);
    const affected = batches.reduce((n, b) => n + b.employeeIds.length, 0);
    expect(delivered).toHaveLength(affected);
    expect(await notices.counts(incidentId)).toMatchObject({ planned: affected, sent: affected, failed: 0 });
  }, 240_000);

  it('keeps its progress when a call fails mid-way: a continuation redoes only the buckets of its round not queued, and every employee is queued', async () => {
    const incidentId = await raiseIncident(stack, 'notices-interrupted');
    const notices = new NoticeLedger(ledger);
    const batches: SendBatch[] = [];
    // The queue fails every third send: each run makes progress, then is interrupted.
    let sends = 0;
    const sendQueue = {
      enqueue: async (b: SendBatch) => {
        if (++sends % 3 === 0) throw Object.assign(new Error('Throttled'), { name: 'ThrottlingException' });
        batches.push(b);
      },
    } as unknown as WorkQueue<SendBatch>;
    const planner = new NoticePlanner({ subjects, notices, sendQueue }, { roundSize: 1000 });
    let work: PlanWork = { type: 'plan', incidentId, programId: 'mci', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 };
    const interruptions: PlanWork[] = [];
    for (let runs = 0; ; runs++) {
      expect(runs).toBeLessThan(1000);
      const step = await planner.run(work, unlimited, ['keystrokes']).catch((error: Error) => error);
      if (step instanceof Error) continue; // no progress in this run: SQS would redeliver the same work
      if (step.done) break;
      expect(step.interrupted).toBeInstanceOf(Error);
      const { round } = step.next;
      // Interrupted inside a round: the continuation names it, with more of its buckets done than before.
      expect(round).toBeDefined();
      const before = work.round && work.round.until === round!.until ? work.round.done.length : 0;
      expect(round!.done.length).toBeGreaterThan(before);
      // Every bucket done has all of its employees of the round queued.
      const queued = new Set(batches.flatMap((b) => b.employeeIds));
      for (let i = 0; i < EMPLOYEES; i++) {
        const id = `E${String(i).padStart(6, '0')}`;
        if ((work.after === undefined || id > work.after) && id <= round!.until && round!.done.includes(notices.bucketOf(id)))
          expect(queued.has(id), id).toBe(true);
      }
      interruptions.push(step.next);
      work = step.next;
    }
    expect(interruptions.length).toBeGreaterThan(5);
    const queuedIds = batches.flatMap((b) => b.employeeIds);
    // keystrokes covers every seeded employee; each one was queued, once: a continuation redoes no bucket it had queued.
    expect(new Set(queuedIds).size).toBe(EMPLOYEES);
    expect(queuedIds.length).toBe(EMPLOYEES);
    expect(await notices.counts(incidentId)).toMatchObject({ planned: EMPLOYEES, pending: EMPLOYEES });
  }, 240_000);
});
