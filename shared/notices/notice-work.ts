import { z } from '../schemas/z.ts';
import { DetailType, KillSwitchEngagedSchema } from '../schemas/domain-events.ts';
import { PlanWorkSchema, SendBatchSchema, type PlanWork, type SendBatch } from '../schemas/notices.ts';
import { KillSwitchError, parseJson, parseOrThrow, PermanentWorkError } from '../domain/errors.ts';
import type { NoticeSender, SendReport } from './sender.ts';
import {
  SILENT,
  type DeadLetterSink,
  type DomainEvents,
  type IncidentRecords,
  type Programs,
  type Telemetry,
  type WorkQueue,
} from '../killswitch/ports.ts';
import type { Budget } from '../domain/work.ts';
import type { NoticePlanner } from './planner.ts';

const EngagedEnvelopeSchema = z.object({
  'detail-type': z.enum([DetailType.KillSwitchEngaged, DetailType.IncidentEscalated]),
  detail: z.object({ incidentId: KillSwitchEngagedSchema.shape.incidentId, programId: KillSwitchEngagedSchema.shape.programId }),
});

/** A plan-queue message: `Kill Switch Engaged` or `Incident Escalated`, or plan work from an operator. Only the incident is taken from it. */
export function parsePlanWork(body: string): PlanWork {
  const value = parseJson(body, 'notice plan work');
  const engaged = EngagedEnvelopeSchema.safeParse(value);
  if (engaged.success) {
    const d = engaged.data.detail;
    return PlanWorkSchema.parse({ type: 'plan', incidentId: d.incidentId, programId: d.programId });
  }
  return parseOrThrow(PlanWorkSchema, value, 'notice plan work');
}

export const parseSendBatch = (body: string): SendBatch =>
  parseOrThrow(SendBatchSchema, parseJson(body, 'notice send batch'), 'notice send batch');

/**
 * Run one planning step; continue on the queue, or record and announce the plan when done. The
 * audience is the incident's datasets as the ledger records them. Work without an operator's request
 * comes from `Kill Switch Engaged` or `Incident Escalated`: it plans for a paused incident of a
 * program that notifies automatically, or for an incident an operator has already notified (an
 * escalation's new datasets' employees are told too), and does nothing otherwise. Work for no
 * incident of the program is refused for good (DLQ, with the reason).
 */
export async function performPlanWork(
  work: PlanWork,
  budget: Budget,
  deps: {
    planner: NoticePlanner;
    planQueue: WorkQueue<PlanWork>;
    incidents: IncidentRecords;
    programs: Programs;
    events: DomainEvents;
    clock?: () => Date;
    telemetry?: Telemetry;
  },
): Promise<{ outcome: 'DONE' | 'CONTINUED' | 'NOT_NOTIFIED'; planned: number; queued: number; interruptedBy?: string }> {
  const incident = await deps.incidents.get(work.incidentId);
  if (!incident || incident.programId !== work.programId)
    throw new PermanentWorkError('notice plan work', `${work.incidentId} is not an incident of program ${work.programId}`);
  if (!work.requestedBy) {
    const auto = deps.programs.find(incident.programId)?.notify === 'auto' && incident.action !== 'RECORDED';
    const notified = !auto && (await deps.incidents.timeline(incident.incidentId)).some((t) => t.type === 'NOTIFY_REQUESTED');
    if (!auto && !notified) return { outcome: 'NOT_NOTIFIED', planned: 0, queued: 0 };
  }
  const configured = new Set(deps.programs.find(incident.programId)?.datasetIds ?? incident.datasetIds);
  const step = await deps.planner.run(
    work,
    budget,
    incident.datasetIds.filter((d) => configured.has(d)),
  );
  // What this run added to the delivery ledger (the counts are cumulative across continuations).
  if (work.mode !== 'failed')
    deps.telemetry?.count('NoticesPlanned', Math.max(0, (step.done ? step.planned : step.next.planned) - work.planned), {
      programId: work.programId,
    });
  if (!step.done) {
    await deps.planQueue.enqueue(step.next);
    // Interrupted after progress: the continuation resumes after the last batch queued (the error's name is logged).
    const interruptedBy =
      step.interrupted === undefined ? {} : { interruptedBy: step.interrupted instanceof Error ? step.interrupted.name : 'unknown' };
    return { outcome: 'CONTINUED', planned: step.next.planned, queued: step.queued, ...interruptedBy };
  }
  const at = (deps.clock ?? (() => new Date()))().toISOString();
  await deps.incidents.record(`NOTICES_PLANNED#${work.noticeType}#${work.mode}#${at}`, {
    incidentId: work.incidentId,
    at,
    type: work.mode === 'failed' ? 'NOTICES_REQUEUED' : 'NOTICES_PLANNED',
    actor: 'killswitch:plan-notices',
    message:
      work.mode === 'failed'
        ? `${step.queued} failed notices queued again`
        : `${step.planned} ${work.noticeType} notices planned` +
          (step.notSent ? `; ${step.notSent} employee(s) left out: their exposure notice was not sent (resend-failed first)` : ''),
    data: {
      planned: step.planned,
      queued: step.queued,
      noticeType: work.noticeType,
      categories: step.categories,
      ...(step.notSent ? { notSent: step.notSent } : {}),
    },
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
    super(
      `${failed} notices not sent (or still being sent by another delivery) on attempt ${attempt}; the batch will be retried`,
      'FAILURE',
    );
  }
}

/**
 * Send one delivery of a batch. Before the last delivery, notices SNS rejected are retried with
 * the batch (throws {@link NoticeBatchRetry}); on the last, they are marked FAILED and the batch
 * of them goes to the DLQ with the errors, for `resend-failed`. Counts what was sent and what failed.
 */
export async function performSendBatch(
  batch: SendBatch,
  attempt: number,
  deps: { sender: NoticeSender; deadLetters: DeadLetterSink; maxAttempts: number; telemetry?: Telemetry },
  budget?: Budget,
): Promise<SendReport & { lastAttempt: boolean }> {
  const lastAttempt = attempt >= deps.maxAttempts;
  const telemetry = deps.telemetry ?? SILENT;
  const report = await deps.sender.send(batch, { lastAttempt, ...(budget ? { budget } : {}) });
  telemetry.count('NoticesSent', report.sent.length);
  telemetry.count('NoticesFailed', lastAttempt ? report.failed.length : 0);
  const unfinished = report.failed.length + report.inFlight.length;
  if (unfinished && lastAttempt) {
    const errors = [...new Set(report.failed.map((f) => f.error))].join('; ');
    await deps.deadLetters.send(
      JSON.stringify({
        ...batch,
        employeeIds: report.failed.map((f) => f.employeeId),
        ...(report.inFlight.length ? { inFlight: report.inFlight } : {}),
      }),
      `notices marked FAILED after ${attempt} attempts: ${errors || 'none'}${report.inFlight.length ? `; ${report.inFlight.length} not sent (their bucket stayed claimed by another delivery, the time ran out, or their outcome could not be recorded): resend-failed queues them again` : ''}`,
      'send-notices',
    );
  } else if (unfinished) {
    throw new NoticeBatchRetry(unfinished, attempt, report.sent.length);
  }
  return { ...report, lastAttempt };
}
