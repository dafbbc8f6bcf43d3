import type { PlanWork, SendBatch } from '../schemas/notices.ts';
import type { DataSubjects, NoticeRecords } from './ports.ts';
import type { WorkQueue } from '../killswitch/ports.ts';
import type { Budget } from '../domain/work.ts';
import { inParallel } from '../domain/work.ts';
import { affectedEmployees } from './audience.ts';

export const SEND_BATCH_SIZE = 50;

export type PlanStep =
  /** `notSent`: follow-ups not planned because the employee's exposure notice was not sent. */
  | { done: true; planned: number; queued: number; categories: string[]; notSent?: number }
  /** `interrupted`: a call failed after this invocation had made progress; `next` continues from the last batch fully planned and queued. */
  | { done: false; next: PlanWork; queued: number; interrupted?: unknown };

/**
 * Use case: plan an incident's notices.
 *
 * 1. Stream the affected employees (each once, categories merged across datasets).
 * 2. Write one PENDING ledger entry per employee with a conditional put: planning the same
 *    incident again adds nobody twice.
 * 3. Queue every entry that is not yet sent (PENDING, or SENDING by a sender presumed dead), 50
 *    employees per send batch (re-queuing is safe: the sender's claim lets only one send it).
 * 4. Stop before the time budget runs out and return where to continue (after employee X).
 * 5. If a call fails after this invocation planned and queued at least one batch, return where to
 *    continue (after that batch) instead of failing: a redelivery would redo the whole prefix, and
 *    under sustained throttling might never get through it. Without progress, the error propagates.
 * `failed` mode puts FAILED entries back to PENDING and queues them again, with stale SENDING ones.
 */
export class NoticePlanner {
  constructor(
    private readonly deps: { subjects: DataSubjects; notices: NoticeRecords; sendQueue: WorkQueue<SendBatch>; clock?: () => Date },
    private readonly options: { concurrency?: number } = {},
  ) {}

  /** `datasetIds`: the incident's, as the ledger records it. */
  async run(work: PlanWork, budget: Budget, datasetIds: readonly string[]): Promise<PlanStep> {
    return work.mode === 'failed' ? this.#retryFailed(work) : this.#planAll(work, budget, datasetIds);
  }

  async #planAll(work: PlanWork, budget: Budget, datasetIds: readonly string[]): Promise<PlanStep> {
    const clock = this.deps.clock ?? (() => new Date());
    const now = clock().toISOString();
    let planned = work.planned;
    let queued = 0;
    const categories = new Set(work.categories ?? []);
    const next = (after: string) => ({
      ...work,
      after,
      planned,
      continuation: work.continuation + 1,
      categories: [...categories].sort(),
      ...(notSent ? { notSent } : {}),
    });
    let chunk: Parameters<NoticeRecords['plan']>[0][] = [];
    let last: string | undefined;
    let notSent = work.notSent ?? 0;
    const flush = async () => {
      const toSend: string[] = [];
      // A follow-up (update, resolved) goes only to those the exposure notice reached, about what
      // it told them: an employee whose exposure notice was never sent is not told an update of it.
      if (work.noticeType !== 'exposure') {
        const kept: typeof chunk = [];
        await inParallel(chunk, this.options.concurrency ?? 16, async (entry) => {
          const exposure = await this.deps.notices.get(work.incidentId, 'exposure', entry.employeeId);
          if (exposure?.status === 'SENT')
            kept.push({
              ...entry,
              categories: exposure.categories,
              datasetIds: exposure.datasetIds,
              heldFrom: exposure.heldFrom,
              heldTo: exposure.heldTo,
              ...(exposure.locale ? { locale: exposure.locale } : {}),
            });
          else notSent++;
        });
        chunk = kept;
      }
      await inParallel(chunk, this.options.concurrency ?? 16, async (entry) => {
        const { created, entry: stored } = await this.deps.notices.plan(entry);
        if (created) planned++;
        // A stale SENDING entry's sender died: queue it again (the sender's claim takes it over).
        if (stored.status === 'PENDING' || this.deps.notices.isStale(stored, clock())) toSend.push(entry.employeeId);
      });
      if (toSend.length) {
        await this.deps.sendQueue.enqueue({
          type: 'send',
          incidentId: work.incidentId,
          noticeType: work.noticeType,
          employeeIds: toSend.sort(),
        });
        queued += toSend.length;
      }
      chunk = [];
    };
    // The last employee of the last batch fully planned and queued: where a continuation resumes.
    let checkpoint: string | undefined;
    try {
      for await (const employee of affectedEmployees(this.deps.subjects, datasetIds, { after: work.after })) {
        chunk.push({
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
        last = employee.employeeId;
        for (const c of employee.categories) categories.add(c);
        if (chunk.length === SEND_BATCH_SIZE) {
          await flush();
          checkpoint = last;
          if (!budget.hasTime()) return { done: false, next: next(last), queued };
        }
      }
      await flush();
    } catch (error) {
      if (checkpoint === undefined) throw error;
      return {
        done: false,
        next: next(checkpoint),
        queued,
        interrupted: error,
      };
    }
    return { done: true, planned, queued, categories: [...categories].sort(), notSent };
  }

  async #retryFailed(work: PlanWork): Promise<PlanStep> {
    let batch: string[] = [];
    let queued = 0;
    const flush = async () => {
      if (!batch.length) return;
      await this.deps.sendQueue.enqueue({ type: 'send', incidentId: work.incidentId, noticeType: work.noticeType, employeeIds: batch });
      queued += batch.length;
      batch = [];
    };
    for await (const entry of this.deps.notices.failed(work.incidentId, work.noticeType, (this.deps.clock ?? (() => new Date()))())) {
      if (entry.status === 'SENDING' || (await this.deps.notices.retryFailed(work.incidentId, work.noticeType, entry.employeeId)))
        batch.push(entry.employeeId);
      if (batch.length === SEND_BATCH_SIZE) await flush();
    }
    await flush();
    return { done: true, planned: work.planned, queued, categories: work.categories ?? [] };
  }
}
