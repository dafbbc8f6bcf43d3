import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { interceptLocalhostDns, startFauxqs } from 'fauxqs';
import { WorkQueue } from '#shared/adapters/aws/work-queue.ts';
import { NoticePublisher } from '#shared/adapters/aws/notice-publisher.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { IncidentLedger, LedgerTable, NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { SendBatchSchema, type SendBatch } from '#shared/schemas/notices.ts';
import { benchDb, round } from './support.ts';

const CONCURRENCY = 8;
const SETTINGS = { organisation: 'Example Corp', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' };

/** Receives and deletes everything that arrives on `queueUrl` until `stop()`; counts messages. */
function subscriber(sqs: SQSClient, queueUrl: string) {
  let count = 0;
  let running = true;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (!Messages.length) continue;
      count += Messages.length;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  });
  return {
    count: () => count,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (!predicate()) throw new Error('fan-out did not finish in time');
}

async function oneSize(size: number) {
  const db = await benchDb();
  const restore = interceptLocalhostDns();
  const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: 'eu-west-1' });
  const endpoint = `http://sqs.eu-west-1.localhost:${fauxqs.port}`;
  const sqs = new SQSClient({ endpoint });
  const sns = new SNSClient({ endpoint: fauxqs.address });
  try {
    const { topicArn } = fauxqs.createTopic('notices', { region: 'eu-west-1' });
    const gateway = fauxqs.createQueue('gateway', { region: 'eu-west-1' }).queueUrl;
    fauxqs.subscribe({ topic: 'notices', queue: 'gateway', region: 'eu-west-1', attributes: { RawMessageDelivery: 'true' } });
    const sendQueue = fauxqs.createQueue('send', { region: 'eu-west-1', attributes: { VisibilityTimeout: '30' } }).queueUrl;
    const at = new Date().toISOString();
    await new DataSubjectStore(db.doc, db.tables.dataSubjects).seed(
      Array.from({ length: size }, (_, i) => ({
        datasetId: 'ds',
        employeeId: `E${String(i).padStart(7, '0')}`,
        categories: ['keystrokes'],
        heldFrom: at,
        heldTo: at,
      })),
    );
    const ledger = new LedgerTable(db.doc, db.tables.ledger);
    const incidents = new IncidentLedger(ledger);
    const incidentId = 'inc-20261127-fa0000000001';
    await incidents.open({
      incidentId,
      programId: 'bench',
      scope: '*',
      severity: 'CRITICAL',
      status: 'OPEN',
      action: 'PAUSED',
      openedAt: at,
      openedBy: 'bench',
      trigger: 'OPERATOR',
      datasetIds: ['ds'],
      unknownDatasetIds: [],
      notify: 'manual',
      revision: 1,
      inputIssues: [],
    });
    const notices = new NoticeLedger(ledger);

    // Ours: plan → SQS → senders (claim, render, PublishBatch, mark SENT) → subscriber.
    let peakHeap = 0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    const ours = subscriber(sqs, gateway);
    const started = performance.now();
    const planner = new NoticePlanner({
      subjects: new DataSubjectStore(db.doc, db.tables.dataSubjects),
      notices,
      sendQueue: new WorkQueue<SendBatch>(sqs, sendQueue),
    });
    const sender = new NoticeSender({ notices, incidents, publisher: new NoticePublisher(sns, topicArn), settings: SETTINGS });
    let planning = true;
    const senders = Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: sendQueue, MaxNumberOfMessages: 1, WaitTimeSeconds: planning ? 1 : 0 }),
        );
        if (!Messages.length) {
          if (!planning) return;
          continue;
        }
        for (const m of Messages) {
          await sender.send(SendBatchSchema.parse(JSON.parse(m.Body!)), { lastAttempt: false });
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: sendQueue, Entries: [{ Id: '0', ReceiptHandle: m.ReceiptHandle! }] }));
        }
      }
    });
    await planner.run(
      { type: 'plan', incidentId, programId: 'bench', noticeType: 'exposure', mode: 'all', continuation: 0, planned: 0 },
      { hasTime: () => true },
      ['ds'],
    );
    planning = false;
    await Promise.all(senders);
    await until(() => ours.count() >= size, 120_000);
    const oursSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await ours.stop();

    // Baseline: the same notices, raw PublishBatch at the same concurrency, to the same topic.
    const notice = renderNotice('exposure', {
      incident: { incidentId, openedAt: at, accessRevoked: true },
      employee: { employeeId: 'E', categories: ['keystrokes'], heldFrom: at, heldTo: at },
      settings: SETTINGS,
    });
    const raw = subscriber(sqs, gateway);
    const rawStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < size) {
          const first = next;
          next += 10;
          const entries = Array.from({ length: Math.min(10, size - first) }, (_, i) => ({
            Id: `n${i}`,
            Message: JSON.stringify({ ...notice.structured, employeeId: `E${first + i}`, text: notice.text }),
          }));
          await sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }));
        }
      }),
    );
    await until(() => raw.count() >= size, 120_000);
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    await raw.stop();
    const counts = await notices.counts(incidentId);
    if (counts.sent !== size) throw new Error(`sent ${counts.sent} of ${size}`);
    return {
      recipients: size,
      noticesPerSec: { ours: Math.round(size / oursSeconds), rawPublishBatch: Math.round(size / rawSeconds) },
      ratio: round(size / oursSeconds / (size / rawSeconds)),
      peakHeapMb: round(peakHeap / 2 ** 20, 1),
    };
  } finally {
    sqs.destroy();
    sns.destroy();
    await fauxqs.stop();
    restore();
    await db.stop();
  }
}

/**
 * fan-out: notices to N affected employees end to end (plan → queue → send → subscriber), with
 * the exactly-once ledger, against raw PublishBatch of the same messages at the same concurrency
 * on the same emulator. ratio = ours / raw (target ≥ 0.5); peak heap at the largest size within
 * 1.2× of the smallest.
 */
export async function fanOut({ quick, sizes }: { quick: boolean; sizes?: number[] }) {
  const runs = [];
  for (const size of sizes ?? (quick ? [300] : [10_000, 100_000])) runs.push(await oneSize(size));
  const heapGrowth = round(runs.at(-1)!.peakHeapMb / runs[0]!.peakHeapMb);
  return { name: 'fan-out', concurrency: CONCURRENCY, runs, heapGrowth, target: { ratio: '>= 0.5', heapGrowth: '<= 1.2' } };
}
