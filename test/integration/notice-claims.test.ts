import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { IncidentLedger, LedgerTable, NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { ClaimExpiredError } from '#shared/adapters/dynamodb/ledger/notice-ledger.ts';
import type { NoticeEntry } from '#shared/schemas/notices.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import type { NoticeBucket, NoticeChannel, NoticeRecords, OutgoingNotice, PublishResult } from '#shared/notices/ports.ts';
import type { PlanWork, SendBatch } from '#shared/schemas/notices.ts';
import type { WorkQueue } from '#shared/killswitch/ports.ts';
import { incidentRecord } from '../support/fixtures.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

/*
 * The delivery ledger's claims are per bucket: one conditional write claims a bucket's share of a
 * batch, and the holder writes its entries in batches without conditions. This hunts for a
 * schedule that tells someone twice or nobody at all: concurrent plannings (with small rounds, so
 * that buckets are claimed many times), send batches of any shape (the planner's, and arbitrary
 * subsets spanning buckets), duplicate deliveries at once, SNS refusing or failing calls, last
 * attempts marking FAILED, and senders dying after publishing and before the outcome is written.
 * Then the clock passes the stale window, resend-failed and a new plan run, and everything queued
 * is delivered on a healthy channel.
 *
 * Invariants: every employee's notice ends SENT, with nothing pending, sending or failed; an
 * employee is told once, except one whose sender died after publishing to them (then once more at
 * most per such death: the documented "perhaps sent" window of a stale claim).
 */
const EMPLOYEES = 32;
const STALE_MS = 60_000;
const ids = Array.from({ length: EMPLOYEES }, (_, i) => `E${String(i).padStart(6, '0')}`);

type Step =
  | { kind: 'plan'; roundSize: number; copies: number }
  | { kind: 'send'; pick: number[]; copies: number; lastAttempt: boolean }
  | { kind: 'queued'; copies: number; lastAttempt: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('plan' as const), roundSize: fc.integer({ min: 4, max: 64 }), copies: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('send' as const),
    pick: fc.uniqueArray(fc.integer({ min: 0, max: EMPLOYEES - 1 }), { minLength: 1, maxLength: 30 }),
    copies: fc.integer({ min: 1, max: 3 }),
    lastAttempt: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('queued' as const), copies: fc.integer({ min: 1, max: 3 }), lastAttempt: fc.boolean() }),
);

describe('Delivery ledger claims (dynalite): nobody told twice, nobody left out', () => {
  let db: TestDynamo;
  let table: LedgerTable;
  let subjects: DataSubjectStore;
  let run = 0;
  beforeAll(async () => {
    db = await startTestDynamo();
    table = new LedgerTable(db.doc, db.tables.ledger);
    subjects = new DataSubjectStore(db.doc, db.tables.dataSubjects);
    const at = new Date().toISOString();
    await subjects.seed(ids.map((employeeId) => ({ datasetId: 'ds', employeeId, categories: ['keystrokes'], heldFrom: at, heldTo: at })));
  }, 60_000);
  afterAll(async () => {
    db.client.destroy();
    db.doc.destroy();
    await db.dynamo.stop();
  });

  it('holds over any schedule of plannings, batch shapes, duplicates, SNS faults and senders dying after publishing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer(),
        async (steps, snsFaultRate, dieRate, seed) => {
          let random = seed >>> 0;
          const chance = (p: number) => {
            random = (Math.imul(random, 1664525) + 1013904223) >>> 0;
            return random / 2 ** 32 < p;
          };
          const incidentId = `inc-20261204-${String(++run).padStart(12, '0')}`;
          const incidents = new IncidentLedger(table);
          await incidents.open(incidentRecord({ incidentId, datasetIds: ['ds'] }));
          let now = Date.parse('2026-12-04T05:00:00Z');
          const clock = () => new Date(now);
          const ledger = new NoticeLedger(table, STALE_MS, {
            patienceMs: 100,
            sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
          });

          // Deaths after publishing: the outcome write fails, as if the sender's process ended there.
          const perhapsSent = new Map<string, number>();
          let faulty = true;
          const exclusive = <T>(
            incident: string,
            type: 'exposure' | 'update' | 'resolved',
            bucket: number,
            at: Date,
            work: (held: NoticeBucket) => Promise<T>,
            options?: { sending?: readonly string[] },
          ) =>
            ledger.exclusive(
              incident,
              type,
              bucket,
              at,
              (held) => {
                let published = false;
                let died = false;
                const wrapped: NoticeBucket = {
                  bucket: held.bucket,
                  claimedAt: held.claimedAt,
                  ...(held.takenOver ? { takenOver: held.takenOver } : {}),
                  read: (e) => held.read(e),
                  publishing: () => {
                    published = true;
                    held.publishing();
                  },
                  write: async (entries) => {
                    if (died || (faulty && published && chance(dieRate))) {
                      if (!died) for (const e of entries) perhapsSent.set(e.employeeId, (perhapsSent.get(e.employeeId) ?? 0) + 1);
                      died = true;
                      throw new Error('the sender died after publishing');
                    }
                    await held.write(entries);
                  },
                };
                return work(wrapped);
              },
              options,
            );
          const dying = new Proxy(ledger, {
            get: (target, property) =>
              property === 'exclusive'
                ? exclusive
                : (Reflect.get(target, property, target) as unknown) instanceof Function
                  ? (Reflect.get(target, property, target) as (...a: unknown[]) => unknown).bind(target)
                  : Reflect.get(target, property, target),
          }) as NoticeRecords;

          const told = new Map<string, number>();
          const channel: NoticeChannel = {
            batchSize: 10,
            publish: async (notices: OutgoingNotice[]): Promise<PublishResult[]> => {
              if (faulty && chance(snsFaultRate / 2)) throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
              return notices.map((n, i) => {
                if (faulty && chance(snsFaultRate / 2)) return { ok: false, error: 'InternalError', senderFault: false };
                told.set(n.employeeId, (told.get(n.employeeId) ?? 0) + 1);
                return { ok: true, messageId: `${n.employeeId}-${i}` };
              });
            },
          };
          const queued: SendBatch[] = [];
          const sendQueue = { enqueue: async (b: SendBatch) => void queued.push(b) } as unknown as WorkQueue<SendBatch>;
          const settings = { organisation: 'Example Corp', contact: {}, defaultLocale: 'en' };
          const sender = new NoticeSender({ notices: dying, incidents, publisher: channel, settings, clock });
          const work: PlanWork = {
            type: 'plan',
            incidentId,
            programId: 'mci',
            noticeType: 'exposure',
            mode: 'all',
            continuation: 0,
            planned: 0,
          };
          const planAll = async (roundSize: number) => {
            const planner = new NoticePlanner({ subjects, notices: dying, sendQueue, clock }, { roundSize, concurrency: 4 });
            // As SQS does: work that failed without progress is delivered again, later (a bucket
            // whose sender died stays claimed until its claim is stale).
            for (let w = work, i = 0; i < 100; i++) {
              const s = await planner.run(w, { hasTime: () => true }, ['ds']).catch(() => undefined);
              if (s?.done) return;
              if (s) w = s.next;
              if (!s || s.next.round) now += 10_000;
            }
            throw new Error('planning did not finish');
          };
          const deliver = (batch: SendBatch, lastAttempt: boolean) => sender.send(batch, { lastAttempt });

          for (const s of steps) {
            if (s.kind === 'plan') await Promise.all(Array.from({ length: s.copies }, () => planAll(s.roundSize)));
            else if (s.kind === 'send') {
              const batch: SendBatch = { type: 'send', incidentId, noticeType: 'exposure', employeeIds: s.pick.map((i) => ids[i]!) };
              await Promise.all(Array.from({ length: s.copies }, () => deliver(batch, s.lastAttempt)));
            } else {
              const batches = queued.splice(0);
              await Promise.all(batches.flatMap((b) => Array.from({ length: s.copies }, () => deliver(b, s.lastAttempt))));
            }
            now += 1_000;
          }

          // Recovery on a healthy channel: past the stale window, resend what failed, plan again, deliver until done.
          faulty = false;
          now += STALE_MS + 1_000;
          const planner = new NoticePlanner({ subjects, notices: dying, sendQueue, clock });
          await planner.run({ ...work, mode: 'failed' }, { hasTime: () => true }, ['ds']);
          await planAll(64);
          for (let round = 0; queued.length; round++) {
            expect(round).toBeLessThan(20);
            const batches = queued.splice(0);
            for (const b of batches) {
              const report = await deliver(b, false);
              if (report.failed.length || report.inFlight.length) queued.push(b);
            }
            now += 1_000;
          }

          const counts = await ledger.counts(incidentId);
          expect(counts).toEqual({ planned: EMPLOYEES, pending: 0, sending: 0, sent: EMPLOYEES, failed: 0 });
          for (const id of ids) {
            const times = told.get(id) ?? 0;
            expect(times, id).toBeGreaterThanOrEqual(1);
            expect(times, `${id} told ${times} times`).toBeLessThanOrEqual(1 + (perhapsSent.get(id) ?? 0));
            const entry = await ledger.get(incidentId, 'exposure', id);
            expect(entry?.status).toBe('SENT');
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 600_000);
  /** One PENDING entry of a fresh incident, for the tests of single schedules below. */
  async function onePending(name: string, ledger: NoticeLedger, employeeId: string): Promise<{ incidentId: string; entry: NoticeEntry }> {
    const incidentId = `inc-20261204-${name.padEnd(12, '0').slice(0, 12)}`;
    await new IncidentLedger(table).open(incidentRecord({ incidentId, datasetIds: ['ds'] }));
    const entry: NoticeEntry = {
      incidentId,
      employeeId,
      noticeType: 'exposure',
      categories: ['keystrokes'],
      datasetIds: ['ds'],
      heldFrom: '2026-12-01T00:00:00.000Z',
      heldTo: '2026-12-02T00:00:00.000Z',
      plannedAt: new Date().toISOString(),
      status: 'PENDING',
      attempts: 0,
    };
    const claim = await ledger.exclusive(incidentId, 'exposure', ledger.bucketOf(employeeId), new Date(), (held) => held.write([entry]));
    expect(claim.held).toBe(true);
    return { incidentId, entry };
  }

  it('a holder that outlived its claim cannot write under it: a SENT entry written by the delivery that took over stays SENT', async () => {
    const ledger = new NoticeLedger(table, 300);
    const id = ids[0]!;
    const { incidentId, entry } = await onePending('aaaaaaaaaaa1', ledger, id);
    const bucket = ledger.bucketOf(id);
    let resume!: () => void;
    const stalled = new Promise<void>((r) => (resume = r));
    // A: reads the entry as PENDING, then stalls past the stale window before writing it back.
    const a = ledger.exclusive(incidentId, 'exposure', bucket, new Date(), async (held) => {
      expect((await held.read([id])).get(id)?.status).toBe('PENDING');
      await stalled;
      await held.write([{ ...entry, plannedAt: new Date().toISOString() }]);
    });
    await new Promise((r) => setTimeout(r, 400));
    // B: takes the stale claim over and records the notice SENT.
    const b = await ledger.exclusive(incidentId, 'exposure', bucket, new Date(), async (held) => {
      held.publishing();
      await held.write([{ ...entry, status: 'SENT', attempts: 1, sentAt: new Date().toISOString(), messageId: 'm-1' }]);
    });
    expect(b.held).toBe(true);
    resume();
    await expect(a).rejects.toBeInstanceOf(ClaimExpiredError);
    expect(await ledger.get(incidentId, 'exposure', id)).toMatchObject({ status: 'SENT', messageId: 'm-1' });
  });

  it("a claim whose answer was lost is found again by the SDK's retry: the batch is sent, not left in flight", async () => {
    const ledger = new NoticeLedger(table);
    const id = ids[1]!;
    const { incidentId } = await onePending('bbbbbbbbbbb1', ledger, id);
    let lost = 0;
    const client = dynamoDocumentClient({ endpoint: db.dynamo.endpoint, region: 'eu-west-1' });
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const input = (args.request as { body?: string }).body ?? '';
        if (lost === 0 && input.includes('attribute_not_exists(holder)')) {
          lost++;
          // The claim is applied; its answer never arrives. The SDK retries the same request.
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {}, $retryable: {} });
        }
        return out;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'loseClaimAnswer' },
    );
    const flaky = new NoticeLedger(new LedgerTable(client, db.tables.ledger), undefined, { patienceMs: 200 });
    const told: string[] = [];
    const sender = new NoticeSender({
      notices: flaky,
      incidents: new IncidentLedger(table),
      publisher: { batchSize: 10, publish: async (n) => n.map((x) => (told.push(x.employeeId), { ok: true as const, messageId: 'm' })) },
      settings: { organisation: 'Example Corp', contact: {}, defaultLocale: 'en' },
    });
    const report = await sender.send({ type: 'send', incidentId, noticeType: 'exposure', employeeIds: [id] }, { lastAttempt: false });
    expect(lost).toBe(1);
    expect(report).toMatchObject({ sent: [id], inFlight: [], failed: [] });
    expect(told).toEqual([id]);
    expect(await ledger.counts(incidentId)).toMatchObject({ sent: 1, sending: 0, pending: 0 });
    client.destroy();
  });

  it('resend-failed finds PENDING entries no delivery is sending (a batch whose bucket stayed claimed through its last delivery)', async () => {
    const ledger = new NoticeLedger(table);
    const id = ids[2]!;
    const { incidentId } = await onePending('ccccccccccc1', ledger, id);
    const found: string[] = [];
    for await (const e of ledger.failed(incidentId, 'exposure', new Date())) found.push(e.employeeId);
    expect(found).toEqual([id]);
    // While a claim is publishing it, it is SENDING and not listed.
    await ledger.exclusive(
      incidentId,
      'exposure',
      ledger.bucketOf(id),
      new Date(),
      async () => {
        const during: string[] = [];
        for await (const e of ledger.failed(incidentId, 'exposure', new Date())) during.push(e.employeeId);
        expect(during).toEqual([]);
        expect((await ledger.get(incidentId, 'exposure', id))?.status).toBe('SENDING');
      },
      { sending: [id] },
    );
  });
  it('a delivery that died while publishing leaves its notices SENDING; the one that takes the claim over marks them "perhaps sent"', async () => {
    const ledger = new NoticeLedger(table, 300);
    const id = ids[3]!;
    const { incidentId } = await onePending('ddddddddddd1', ledger, id);
    const bucket = ledger.bucketOf(id);
    await expect(
      ledger.exclusive(
        incidentId,
        'exposure',
        bucket,
        new Date(),
        async (held) => {
          held.publishing();
          throw new Error('the sender died after publishing');
        },
        { sending: [id] },
      ),
    ).rejects.toThrow('died');
    expect(await ledger.get(incidentId, 'exposure', id)).toMatchObject({ status: 'SENDING' });
    await new Promise((r) => setTimeout(r, 350));
    const stale: string[] = [];
    for await (const e of ledger.failed(incidentId, 'exposure', new Date())) stale.push(e.employeeId);
    expect(stale).toEqual([id]);
    const taken = await ledger.exclusive(incidentId, 'exposure', bucket, new Date(), async (held) => held.takenOver);
    expect(taken).toEqual({ held: true, value: { sending: [id] } });
    expect(await ledger.get(incidentId, 'exposure', id)).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      error: expect.stringMatching(/^perhaps sent/),
    });
  });
});
