import type { AffectedEmployee, NoticeEntry, PlanWork, SendBatch } from '../schemas/notices.ts';
import type { DataSubjects, NoticeRecords } from './ports.ts';
import type { WorkQueue } from '../killswitch/ports.ts';
import type { Budget } from '../domain/work.ts';
import { inParallel } from '../domain/work.ts';
import { affectedEmployees } from './audience.ts';

export const SEND_BATCH_SIZE = 100;

/** Employees a round takes, per bucket of the ledger: a round's send batches average this many. */
const ROUND_PER_BUCKET = 80;

export type PlanStep =
  /** `notSent`: follow-ups not planned because the employee's exposure notice was not sent. */
  | { done: true; planned: number; queued: number; categories: string[]; notSent?: number }
  /** `interrupted`: a call failed after this invocation had made progress; `next` continues without redoing what was queued. */
  | { done: false; next: PlanWork; queued: number; interrupted?: unknown };

/** A bucket stayed claimed by a live delivery for longer than the ledger waits: the round is continued. */
export class BucketBusyError extends Error {
  override readonly name = 'BucketBusyError';
  constructor(bucket: number) {
    super(`bucket ${bucket} of the delivery ledger stayed claimed by another delivery`);
  }
}

type Planned = Omit<NoticeEntry, 'status' | 'attempts'>;

/**
 * Use case: plan an incident's notices.
 *
 * 1. Stream the affected employees (each once, categories merged across datasets), a round at a
 *    time: about 80 employees per bucket of the delivery ledger (the buckets are its claims).
 * 2. For each bucket of the round, holding its claim: read the round's entries, write a PENDING
 *    entry for each employee without one (BatchWriteItem: under the claim no condition is needed,
 *    and planning the same incident again adds nobody twice), and queue every entry not yet sent
 *    (PENDING, or SENDING by a sender presumed dead), one send batch per bucket (up to 100).
 * 3. Between rounds, stop before the time budget runs out and return where to continue.
 * 4. If a bucket fails after this invocation made progress, return a continuation that redoes only
 *    the round's buckets not yet queued: a redelivery would redo the whole round, and under
 *    sustained throttling might never get through it. Without progress, the error propagates.
 * `failed` mode puts FAILED entries back to PENDING and queues them again, with stale SENDING ones
 * and PENDING ones no delivery is sending (what a batch that ran out of deliveries left).
 */
export class NoticePlanner {
  constructor(
    private readonly deps: { subjects: DataSubjects; notices: NoticeRecords; sendQueue: WorkQueue<SendBatch>; clock?: () => Date },
    private readonly options: { concurrency?: number; roundSize?: number } = {},
  ) {}

  /** `datasetIds`: the incident's, as the ledger records it. */
  async run(work: PlanWork, budget: Budget, datasetIds: readonly string[]): Promise<PlanStep> {
    return work.mode === 'failed' ? this.#retryFailed(work) : this.#planAll(work, budget, datasetIds);
  }

  async #planAll(work: PlanWork, budget: Budget, datasetIds: readonly string[]): Promise<PlanStep> {
    const { notices } = this.deps;
    const clock = this.deps.clock ?? (() => new Date());
    const now = clock().toISOString();
    const roundSize = this.options.roundSize ?? notices.buckets * ROUND_PER_BUCKET;
    let planned = work.planned;
    let notSent = work.notSent ?? 0;
    let queued = 0;
    let progressed = false;
    const categories = new Set(work.categories ?? []);

    const { after: _after, round: _round, ...rest } = work;
    const next = (after: string | undefined, round?: PlanWork['round']): PlanWork => ({
      ...rest,
      ...(after === undefined ? {} : { after }),
      ...(round ? { round } : {}),
      planned,
      continuation: work.continuation + 1,
      categories: [...categories].sort(),
      ...(notSent ? { notSent } : {}),
    });

    const stream = affectedEmployees(this.deps.subjects, datasetIds, { after: work.after })[Symbol.asyncIterator]();
    let lookahead: AffectedEmployee | undefined;
    let exhausted = false;
    const pull = async (): Promise<AffectedEmployee | undefined> => {
      if (lookahead) {
        const e = lookahead;
        lookahead = undefined;
        return e;
      }
      if (exhausted) return undefined;
      const r = await stream.next();
      if (r.done) exhausted = true;
      return r.done ? undefined : r.value;
    };

    let after = work.after;
    let resumed = work.round;
    for (;;) {
      // One round: up to roundSize employees (a resumed round: up to the employee it ended at).
      const buckets = new Map<number, Planned[]>();
      let last: string | undefined;
      let streamed = 0;
      try {
        for (;;) {
          if (!resumed && streamed >= roundSize) break;
          const employee = await pull();
          if (!employee) break;
          if (resumed && employee.employeeId > resumed.until) {
            lookahead = employee;
            break;
          }
          streamed++;
          last = employee.employeeId;
          const bucket = notices.bucketOf(employee.employeeId);
          if (resumed?.done.includes(bucket)) continue;
          for (const c of employee.categories) categories.add(c);
          const list = buckets.get(bucket) ?? [];
          list.push({
            incidentId: work.incidentId,
            employeeId: employee.employeeId,
            noticeType: work.noticeType,
            categories: employee.categories,
            datasetIds: employee.datasetIds,
            heldFrom: employee.heldFrom,
            heldTo: employee.heldTo,
            ...(employee.locale ? { locale: employee.locale } : {}),
            plannedAt: now,
          });
          buckets.set(bucket, list);
        }
      } catch (error) {
        // Reading the audience failed: continue from the last round finished, if this run finished one.
        if (!progressed) throw error;
        return { done: false, next: next(after, resumed), queued, interrupted: error };
      }
      const until = resumed?.until ?? last;
      if (until === undefined) break; // nothing left

      const done = new Set(resumed?.done ?? []);
      let failure: unknown;
      await inParallel(
        [...buckets].sort(([a], [b]) => a - b),
        this.options.concurrency ?? 16,
        async ([bucket, entries]) => {
          try {
            const outcome = await this.#flush(work, bucket, entries, clock);
            done.add(bucket);
            progressed = true;
            planned += outcome.created;
            queued += outcome.queued;
            notSent += outcome.notSent;
          } catch (error) {
            failure ??= error;
          }
        },
      );
      if (failure !== undefined) {
        if (!progressed) throw failure;
        return { done: false, next: next(after, { until, done: [...done].sort((a, b) => a - b) }), queued, interrupted: failure };
      }
      after = until;
      resumed = undefined;
      progressed = true;
      if (exhausted && !lookahead) break;
      if (!budget.hasTime()) return { done: false, next: next(after), queued };
    }
    return { done: true, planned, queued, categories: [...categories].sort(), notSent };
  }

  /** One bucket of a round: its new entries written and every entry not yet sent queued, holding the bucket's claim. */
  async #flush(
    work: PlanWork,
    bucket: number,
    entries: Planned[],
    clock: () => Date,
  ): Promise<{ created: number; queued: number; notSent: number }> {
    const { notices } = this.deps;
    let notSent = 0;
    // A follow-up (update, resolved) goes only to those the exposure notice reached, about what
    // it told them: an employee whose exposure notice was never sent is not told an update of it.
    if (work.noticeType !== 'exposure') {
      const exposures = await notices.getMany(
        work.incidentId,
        'exposure',
        entries.map((e) => e.employeeId),
      );
      entries = entries.flatMap((entry) => {
        const exposure = exposures.get(entry.employeeId);
        if (exposure?.status !== 'SENT') {
          notSent++;
          return [];
        }
        return [
          {
            ...entry,
            categories: exposure.categories,
            datasetIds: exposure.datasetIds,
            heldFrom: exposure.heldFrom,
            heldTo: exposure.heldTo,
            ...(exposure.locale ? { locale: exposure.locale } : {}),
          },
        ];
      });
      if (!entries.length) return { created: 0, queued: 0, notSent };
    }
    const ids = entries.map((e) => e.employeeId);
    const claim = await notices.exclusive(work.incidentId, work.noticeType, bucket, clock(), async (held) => {
      const existing = await held.read(ids);
      const fresh = entries.filter((e) => !existing.has(e.employeeId)).map((e): NoticeEntry => ({ ...e, status: 'PENDING', attempts: 0 }));
      if (fresh.length) await held.write(fresh);
      // A stale SENDING entry's sender died: queue it again (the sender's claim takes it over).
      const toSend = ids.filter((id) => {
        const stored = existing.get(id);
        return !stored || stored.status === 'PENDING' || notices.isStale(stored, clock());
      });
      return { created: fresh.length, toSend };
    });
    if (!claim.held) throw new BucketBusyError(bucket);
    const { created, toSend } = claim.value;
    toSend.sort();
    for (let i = 0; i < toSend.length; i += SEND_BATCH_SIZE)
      await this.deps.sendQueue.enqueue({
        type: 'send',
        incidentId: work.incidentId,
        noticeType: work.noticeType,
        employeeIds: toSend.slice(i, i + SEND_BATCH_SIZE),
      });
    return { created, queued: toSend.length, notSent };
  }

  async #retryFailed(work: PlanWork): Promise<PlanStep> {
    const buckets = new Map<number, string[]>();
    let queued = 0;
    const flush = async (bucket: number) => {
      const batch = buckets.get(bucket);
      if (!batch?.length) return;
      await this.deps.sendQueue.enqueue({ type: 'send', incidentId: work.incidentId, noticeType: work.noticeType, employeeIds: batch });
      queued += batch.length;
      buckets.delete(bucket);
    };
    for await (const entry of this.deps.notices.failed(work.incidentId, work.noticeType, (this.deps.clock ?? (() => new Date()))())) {
      // FAILED ones go back to PENDING; PENDING and abandoned SENDING ones are queued as they are.
      if (entry.status !== 'FAILED' || (await this.deps.notices.retryFailed(work.incidentId, work.noticeType, entry.employeeId))) {
        const bucket = this.deps.notices.bucketOf(entry.employeeId);
        const batch = buckets.get(bucket) ?? [];
        batch.push(entry.employeeId);
        buckets.set(bucket, batch);
        if (batch.length === SEND_BATCH_SIZE) await flush(bucket);
      }
    }
    for (const bucket of [...buckets.keys()]) await flush(bucket);
    return { done: true, planned: work.planned, queued, categories: work.categories ?? [] };
  }
}
