import { DetailType, KillSwitchEngagedSchema } from '../schemas/domain-events.ts';
import { GrantWorkSchema, type GrantWork, type GrantsRestored, type GrantsRevoked } from '../schemas/grants.ts';
import { parseOrThrow, ValidationError } from '../errors.ts';
import type { DomainEventPublisher } from '../aws/domain-event-publisher.ts';
import type { OperatorAlerts } from '../aws/operator-alerts.ts';
import type { WorkQueue } from '../aws/work-queue.ts';
import type { IncidentLedger } from '../stores/ledger/incident-ledger.ts';
import type { GrantRevoker } from './revoker.ts';
import type { GrantRestorer } from './restorer.ts';
import type { Budget } from '../runtime/work.ts';
import { z } from '../schemas/z.ts';

/** A queue message: the `Kill Switch Engaged` event itself (EventBridge → SQS), or our own work item. */
const EngagedEnvelopeSchema = z.object({ 'detail-type': z.literal(DetailType.KillSwitchEngaged), detail: KillSwitchEngagedSchema });

export function parseGrantWork(body: string): GrantWork {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ValidationError('grant work', [{ path: '(root)', message: 'must be JSON' }]);
  }
  const engaged = EngagedEnvelopeSchema.safeParse(json);
  if (engaged.success) {
    const d = engaged.data.detail;
    return { type: 'revoke', incidentId: d.incidentId, programId: d.programId, datasetIds: d.datasetIds, datasetIndex: 0, counts: { scanned: 0, owners: 0 }, continuation: 0 };
  }
  return parseOrThrow(GrantWorkSchema, json, 'grant work');
}

export interface GrantWorkDeps {
  revoker: GrantRevoker;
  restorer: GrantRestorer;
  work: WorkQueue<GrantWork>;
  incidents: IncidentLedger;
  events: DomainEventPublisher;
  alerts: OperatorAlerts;
  clock?: () => Date;
}

/**
 * Use case: carry out one unit of grant work within a time budget. Unfinished work is put back
 * on the queue as a continuation; finished work is recorded in the incident timeline (once)
 * and announced on the bus.
 */
export async function performGrantWork(work: GrantWork, budget: Budget, deps: GrantWorkDeps): Promise<'DONE' | 'CONTINUED'> {
  const step = work.type === 'revoke' ? await deps.revoker.run(work, budget) : await deps.restorer.run(work, budget);
  if (!step.done) {
    await deps.work.enqueue(step.next);
    return 'CONTINUED';
  }
  const finishedAt = (deps.clock ?? (() => new Date()))().toISOString();
  if (work.type === 'revoke' && 'revoked' in step.counts) {
    const detail: GrantsRevoked = { incidentId: work.incidentId, programId: work.programId, datasetIds: work.datasetIds, ...step.counts, continuations: step.continuations, finishedAt };
    await deps.incidents.record(`GRANTS_REVOKED#${work.datasetIds.join(',')}`, {
      incidentId: work.incidentId,
      at: finishedAt,
      type: 'GRANTS_REVOKED',
      actor: 'killswitch:revoke-grants',
      message: `${detail.revoked} grants revoked (${detail.alsoHeld} already revoked by another incident, ${detail.owners} owner grants kept) on ${work.datasetIds.join(', ')}`,
      data: { ...step.counts, continuations: step.continuations },
    });
    await deps.events.publish(DetailType.GrantsRevoked, detail);
  } else if (work.type === 'restore' && 'restored' in step.counts) {
    const detail: GrantsRestored = { incidentId: work.incidentId, programId: work.programId, requestId: work.requestId, ...step.counts, finishedAt };
    const summary = `${detail.restored} grants restored, ${detail.stillHeld} still held by another incident, ${detail.skipped} skipped (changed or deleted since)`;
    await deps.incidents.record(`GRANTS_RESTORED#${work.requestId}`, {
      incidentId: work.incidentId,
      at: finishedAt,
      type: 'GRANTS_RESTORED',
      actor: work.approvedBy,
      message: summary,
      data: { ...step.counts, requestId: work.requestId },
    });
    await deps.events.publish(DetailType.GrantsRestored, detail);
    await deps.alerts.send({
      subject: `[killswitch] grants restored for ${work.incidentId}`,
      severity: 'HIGH',
      programId: work.programId,
      incidentId: work.incidentId,
      lines: [summary, `Details: the operator "incident" action for ${work.incidentId}`],
    });
  }
  return 'DONE';
}
