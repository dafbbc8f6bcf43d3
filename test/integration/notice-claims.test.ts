import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { IncidentLedger, LedgerTable, NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import type { NoticeBucket, NoticeChannel, NoticeRecords, OutgoingNotice, PublishResult } from '#shared/notices/ports.ts';
import type { PlanWork, SendBatch } from '#shared/schemas/notices.ts';
import type { WorkQueue } from '#shared/killswitch/ports.ts';
import { incidentRecord } from '../support/fixtures.ts';
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
});
