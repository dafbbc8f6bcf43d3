import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { interceptLocalhostDns } from 'fauxqs';
import { WorkQueue } from '#shared/adapters/aws/work-queue.ts';
import { NoticePublisher } from '#shared/adapters/aws/notice-publisher.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { IncidentLedger, LedgerTable, NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { SendBatchSchema, type SendBatch } from '#shared/schemas/notices.ts';
import { benchDb, round, type BenchDb } from './support.ts';

/** Sender instances at once (Lambda concurrency), each taking up to the stack's batch size of send batches. */
const CONCURRENCY = 8;
const SEND_RECORDS_PER_INVOCATION = 5;
const SETTINGS = { organisation: 'Example Corp', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' };

/**
 * Receives and deletes everything that arrives on `queueUrl` until `stop()`; counts messages, and
 * notices to an employee already told (a bitmap over the bench's numbered employees: its memory
 * does not grow with what it has seen).
 */
function subscriber(sqs: SQSClient, queueUrl: string, size: number) {
  let count = 0;
  let duplicates = 0;
  const told = new Uint8Array(size);
  let running = true;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (!Messages.length) continue;
      count += Messages.length;
      for (const m of Messages) {
        const n = Number((JSON.parse(m.Body!) as { employeeId: string }).employeeId.slice(1));
        if (told[n]) duplicates++;
        told[n] = 1;
      }
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
    duplicates: () => duplicates,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The live heap: what is still reachable after a full GC (V8's gc, exposed at run time: no flag needed on the command line). */
const collect = (() => {
  let gc: (() => void) | undefined;
  return () => {
    if (!gc) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
    gc();
    return process.memoryUsage();
  };
})();

/** Counts the ledger's requests and the items they write, by command. */
function ledgerMeter(doc: BenchDb['doc']) {
  const requests: Record<string, number> = {};
  let itemWrites = 0;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      requests[name] = (requests[name] ?? 0) + 1;
      const input = args.input as { RequestItems?: Record<string, unknown[]> };
      if (name === 'BatchWriteItemCommand') itemWrites += Object.values(input.RequestItems ?? {}).reduce((n, r) => n + r.length, 0);
      else if (name === 'PutItemCommand' || name === 'UpdateItemCommand' || name === 'DeleteItemCommand') itemWrites++;
      return next(args);
    },
    { step: 'initialize', name: 'ledgerMeter' },
  );
  const writeRequests = () =>
    ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand'].reduce((n, c) => n + (requests[c] ?? 0), 0);
  return { requests, itemWrites: () => itemWrites, writeRequests };
}

/** fauxqs on a worker thread (bench/fauxqs-worker.mjs), with the notices topic, its gateway queue and the send queue. */
async function startFauxqsThread() {
  const worker = new Worker(new URL('./fauxqs-worker.mjs', import.meta.url));
  const ready = await new Promise<{ port: number; address: string; topicArn: string; gateway: string; send: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...ready,
    stop: async () => {
      const stopped = new Promise((r) => worker.once('message', r));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
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
  const fauxqs = await startFauxqsThread();
  const endpoint = `http://sqs.eu-west-1.localhost:${fauxqs.port}`;
  const sqs = new SQSClient({ endpoint });
  const sns = new SNSClient({ endpoint: fauxqs.address });
  try {
    const { topicArn, gateway, send: sendQueue } = fauxqs;
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
    const meter = ledgerMeter(db.doc);
    const writesBefore = { items: meter.itemWrites(), requests: meter.writeRequests() };
    // The heap as it is (garbage included) every 50 ms; what is live (after a full GC) and the
    // process's resident set every second.
    let peakHeap = 0;
    let liveHeap = 0;
    let rss = 0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    const liveSampler = setInterval(() => {
      const m = collect();
      liveHeap = Math.max(liveHeap, m.heapUsed);
      rss = Math.max(rss, m.rss);
    }, 1000);
    const ours = subscriber(sqs, gateway, size);
    const started = performance.now();
    const planner = new NoticePlanner({
      subjects: new DataSubjectStore(db.doc, db.tables.dataSubjects),
      notices,
      sendQueue: new WorkQueue<SendBatch>(sqs, sendQueue),
    });
    const sender = new NoticeSender({ notices, incidents, publisher: new NoticePublisher(sns, topicArn), settings: SETTINGS });
    let planning = true;
    const senders = Array.from({ length: CONCURRENCY }, async () => {
      // As Lambda's event source does: up to five records an invocation, handled at once, deleted together.
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: sendQueue,
            MaxNumberOfMessages: SEND_RECORDS_PER_INVOCATION,
            WaitTimeSeconds: planning ? 1 : 0,
          }),
        );
        if (!Messages.length) {
          if (!planning) return;
          continue;
        }
        await Promise.all(Messages.map((m) => sender.send(SendBatchSchema.parse(JSON.parse(m.Body!)), { lastAttempt: false })));
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: sendQueue,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
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
    clearInterval(liveSampler);
    await ours.stop();
    const ledgerWrites = { items: meter.itemWrites() - writesBefore.items, requests: meter.writeRequests() - writesBefore.requests };
    const ledgerRequests = { ...meter.requests };

    // Baseline: the same notices, raw PublishBatch at the same concurrency, to the same topic.
    const notice = renderNotice('exposure', {
      incident: { incidentId, openedAt: at, accessRevoked: true },
      employee: { employeeId: 'E', categories: ['keystrokes'], heldFrom: at, heldTo: at },
      settings: SETTINGS,
    });
    const raw = subscriber(sqs, gateway, size);
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
    if (ours.duplicates()) throw new Error(`${ours.duplicates()} employees were told twice`);
    return {
      recipients: size,
      noticesPerSec: { ours: Math.round(size / oursSeconds), rawPublishBatch: Math.round(size / rawSeconds) },
      ratio: round(size / oursSeconds / (size / rawSeconds)),
      duplicates: ours.duplicates(),
      /** Items the ledger wrote per notice (a BatchWriteItem counts its items), and the write requests that did it. */
      ledgerWritesPerNotice: round(ledgerWrites.items / size),
      ledgerWriteRequestsPerNotice: round(ledgerWrites.requests / size, 3),
      ledgerRequests,
      peakHeapMb: round(peakHeap / 2 ** 20, 1),
      liveHeapMb: round(liveHeap / 2 ** 20, 1),
      rssMb: round(rss / 2 ** 20, 1),
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
 * on the same emulator. ratio = ours / raw (target ≥ 0.5, with no employee told twice); the live
 * heap (after a full GC) at the largest size within 1.1× of the smallest.
 */
export async function fanOut({ quick, sizes }: { quick: boolean; sizes?: number[] }) {
  const runs = [];
  for (const size of sizes ?? (quick ? [300] : [10_000, 100_000])) runs.push(await oneSize(size));
  return {
    name: 'fan-out',
    concurrency: CONCURRENCY,
    runs,
    liveHeapGrowth: round(runs.at(-1)!.liveHeapMb / runs[0]!.liveHeapMb),
    rssGrowth: round(runs.at(-1)!.rssMb / runs[0]!.rssMb),
    target: { ratio: '>= 0.5', duplicates: 0, liveHeapGrowth: '<= 1.1' },
  };
}
