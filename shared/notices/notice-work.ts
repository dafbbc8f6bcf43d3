import { z } from '../schemas/z.ts';
import { DetailType, KillSwitchEngagedSchema } from '../schemas/domain-events.ts';
import { PlanWorkSchema, SendBatchSchema, type PlanWork, type SendBatch } from '../schemas/notices.ts';
import { KillSwitchError, parseOrThrow, ValidationError } from '../errors.ts';
import type { DeadLetters } from '../aws/dead-letters.ts';
import type { NoticeSender, SendReport } from './sender.ts';
import type { DomainEventPublisher } from '../aws/domain-event-publisher.ts';
import type { WorkQueue } from '../aws/work-queue.ts';
import type { IncidentLedger } from '../stores/ledger/incident-ledger.ts';
import type { Budget } from '../runtime/work.ts';
import type { NoticePlanner } from './planner.ts';

const EngagedEnvelopeSchema = z.object({ 'detail-type': z.literal(DetailType.KillSwitchEngaged), detail: KillSwitchEngagedSchema });

const json = (body: string, what: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationError(what, [{ path: '(root)', message: 'must be JSON' }]);
  }
};

/** A plan-queue message: `Kill Switch Engaged` (notify: auto), or plan work from an operator. */
export function parsePlanWork(body: string): PlanWork {
  const value = json(body, 'notice plan work');
  const engaged = EngagedEnvelopeSchema.safeParse(value);
  if (engaged.success) {
    const d = engaged.data.detail;
    return PlanWorkSchema.parse({ type: 'plan', incidentId: d.incidentId, programId: d.programId, datasetIds: d.datasetIds });
  }
  return parseOrThrow(PlanWorkSchema, value, 'notice plan work');
}

export const parseSendBatch = (body: string): SendBatch => parseOrThrow(SendBatchSchema, json(body, 'notice send batch'), 'notice send batch');

/** Run one planning step; continue on the queue, or record and announce the plan when done. */
export async function performPlanWork(
  work: PlanWork,
  budget: Budget,
  deps: { planner: NoticePlanner; planQueue: WorkQueue<PlanWork>; incidents: IncidentLedger; events: DomainEventPublisher; clock?: () => Date },
): Promise<{ outcome: 'DONE' | 'CONTINUED'; planned: number; queued: number }> {
  const step = await deps.planner.run(work, budget);
  if (!step.done) {
    await deps.planQueue.enqueue(step.next);
    return { outcome: 'CONTINUED', planned: step.next.planned, queued: step.queued };
  }
  const at = (deps.clock ?? (() => new Date()))().toISOString();
  await deps.incidents.record(`NOTICES_PLANNED#${work.noticeType}#${work.mode}#${at}`, {
    incidentId: work.incidentId,
    at,
    type: work.mode === 'failed' ? 'NOTICES_REQUEUED' : 'NOTICES_PLANNED',
    actor: 'killswitch:plan-notices',
    message: work.mode === 'failed' ? `${step.queued} failed notices queued again` : `${step.planned} ${work.noticeType} notices planned`,
    data: { planned: step.planned, queued: step.queued, noticeType: work.noticeType },
  });
  await deps.events.publish(DetailType.ExposureNoticesPlanned, {
    incidentId: work.incidentId,
    programId: work.programId,
    noticeType: work.noticeType,
    planned: step.planned,
    finishedAt: at,
  });
  return { outcome: 'DONE', planned: step.planned, queued: step.queued };
}

/** Some notices of a batch were not accepted; the batch is retried (SQS redelivers it). */
export class NoticeBatchRetry extends KillSwitchError {
  constructor(
    failed: number,
    attempt: number,
    /** Notices this delivery did send (they are SENT and will be skipped by the retry). */
    readonly sent: number,
  ) {
    super(`${failed} notices not sent (or still being sent by another delivery) on attempt ${attempt}; the batch will be retried`, 'FAILURE');
  }
}

/**
 * Send one delivery of a batch. Before the last delivery, notices SNS rejected are retried with
 * the batch (throws {@link NoticeBatchRetry}); on the last, they are marked FAILED and the batch
 * of them goes to the DLQ with the errors, for `resend-failed`.
 */
export async function performSendBatch(
  batch: SendBatch,
  attempt: number,
  deps: { sender: NoticeSender; deadLetters: DeadLetters; maxAttempts: number },
): Promise<SendReport & { lastAttempt: boolean }> {
  const lastAttempt = attempt >= deps.maxAttempts;
  const report = await deps.sender.send(batch, { lastAttempt });
  const unfinished = report.failed.length + report.inFlight.length;
  if (unfinished && lastAttempt) {
    const errors = [...new Set(report.failed.map((f) => f.error))].join('; ');
    await deps.deadLetters.send(
      JSON.stringify({ ...batch, employeeIds: report.failed.map((f) => f.employeeId), ...(report.inFlight.length ? { inFlight: report.inFlight } : {}) }),
      `notices marked FAILED after ${attempt} attempts: ${errors || 'none'}${report.inFlight.length ? `; ${report.inFlight.length} still claimed by another delivery` : ''}`,
      'send-notices',
    );
  } else if (unfinished) {
    throw new NoticeBatchRetry(unfinished, attempt, report.sent.length);
  }
  return { ...report, lastAttempt };
}
