import { DetailType, KillSwitchEngagedSchema } from '../schemas/domain-events.ts';
import {
  GrantWorkSchema,
  type GrantWork,
  type GrantsRestored,
  type GrantsRevoked,
  type RestoreWork,
  type RevokeWork,
} from '../schemas/grants.ts';
import type { Incident } from '../schemas/ledger.ts';
import { parseOrThrow, PermanentWorkError, ValidationError } from '../domain/errors.ts';
import { samePerson } from '../domain/identity.ts';
import type { Alerts, ApprovalRecords, Clock, DomainEvents, IncidentRecords, Programs, Telemetry, WorkQueue } from '../killswitch/ports.ts';
import type { GrantRevoker } from './revoker.ts';
import type { GrantRestorer } from './restorer.ts';
import type { Budget } from '../domain/work.ts';
import { z } from '../schemas/z.ts';
import type { RevocationRecords } from './ports.ts';

/** A queue message: the `Kill Switch Engaged` event itself (EventBridge → SQS), or our own work item. */
const EngagedEnvelopeSchema = z.object({ 'detail-type': z.literal(DetailType.KillSwitchEngaged), detail: KillSwitchEngagedSchema });

/** Only the incident a `Kill Switch Engaged` names is taken from it: what to revoke comes from the ledger. */
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
    return {
      type: 'revoke',
      incidentId: d.incidentId,
      programId: d.programId,
      datasetIndex: 0,
      counts: { scanned: 0, owners: 0, notRevoked: 0 },
      continuation: 0,
    };
  }
  return parseOrThrow(GrantWorkSchema, json, 'grant work');
}

export interface GrantWorkDeps {
  revoker: GrantRevoker;
  restorer: GrantRestorer;
  work: WorkQueue<GrantWork>;
  incidents: IncidentRecords;
  approvals: Pick<ApprovalRecords, 'get'>;
  revocations: Pick<RevocationRecords, 'datasetsDone' | 'markDatasetDone' | 'unrevoked' | 'datasetCounts'>;
  programs: Programs;
  events: DomainEvents;
  alerts: Alerts;
  clock?: Clock;
  /** Grants revoked, not revoked and restored, by program (the dashboard's revocation graph). */
  telemetry?: Telemetry;
}

export type GrantWorkOutcome = 'DONE' | 'CONTINUED' | 'WAITING';

/**
 * Use case: carry out one unit of grant work within a time budget.
 *
 * Revoke: the incident must exist, be the program's and have paused something; the datasets are
 * the incident's (as the ledger records it, within the program's configuration), less those whose
 * revocation already finished. When every dataset is done, approved restores that waited are queued.
 *
 * Restore: only against an APPROVED two-person restore request of the same incident, and only once
 * the incident's revocation has finished (else it waits: the revocation queues it when done).
 *
 * Anything else is refused for good (a forged or misrouted message): dead-lettered with the
 * reason, and the operators alerted. Unfinished work goes back on the queue as a continuation.
 */
export async function performGrantWork(work: GrantWork, budget: Budget, deps: GrantWorkDeps): Promise<GrantWorkOutcome> {
  const incident = await deps.incidents.get(work.incidentId);
  if (!incident || incident.programId !== work.programId)
    return refuse(deps, work, `${work.incidentId} is not an incident of program ${work.programId}`);
  return work.type === 'revoke' ? revoke(work, incident, budget, deps) : restore(work, incident, budget, deps);
}

async function revoke(work: RevokeWork, incident: Incident, budget: Budget, deps: GrantWorkDeps): Promise<GrantWorkOutcome> {
  if (incident.action === 'RECORDED')
    return refuse(deps, work, `${incident.incidentId} paused nothing (its anomaly was only recorded): nothing is revoked for it`);
  const configured = new Set(deps.programs.find(incident.programId)?.datasetIds ?? []);
  const exposed = incident.datasetIds.filter((d) => configured.has(d));
  if (work.datasetIds?.some((d) => !exposed.includes(d)))
    return refuse(
      deps,
      work,
      `grant work names datasets ${work.datasetIds.join(', ')} that incident ${incident.incidentId} does not expose`,
    );
  const done = await deps.revocations.datasetsDone(incident.incidentId);
  const datasetIds = work.datasetIds ?? exposed.filter((d) => !done.has(d));
  const clock = deps.clock ?? (() => new Date());
  if (datasetIds.length) {
    const step = await deps.revoker.run({ ...work, datasetIds }, budget, async (datasetId) => {
      // Counted per dataset, by the run that first marks it done (a put-once entry): an escalation
      // that adds datasets counts only theirs, a redelivery or a concurrent run counts nothing.
      if (!(await deps.revocations.markDatasetDone(incident.incidentId, datasetId, clock())) || !deps.telemetry) return;
      // A metric never stops a revocation: a failed count read loses that dataset's count (the ledger keeps the truth).
      const counts = await deps.revocations.datasetCounts(incident.incidentId, datasetId).catch(() => undefined);
      if (!counts) return;
      const byProgram = { programId: incident.programId };
      deps.telemetry.count('GrantsRevoked', counts.revoked, byProgram);
      deps.telemetry.count('GrantsNotRevoked', counts.notRevoked, byProgram);
    });
    if (!step.done) {
      await deps.work.enqueue(step.next);
      return 'CONTINUED';
    }
    const finishedAt = clock().toISOString();
    const detail: GrantsRevoked = {
      incidentId: incident.incidentId,
      programId: incident.programId,
      datasetIds,
      ...step.counts,
      continuations: step.continuations,
      finishedAt,
    };
    await deps.incidents.record(`GRANTS_REVOKED#${datasetIds.join(',')}`, {
      incidentId: incident.incidentId,
      at: finishedAt,
      type: 'GRANTS_REVOKED',
      actor: 'killswitch:revoke-grants',
      message:
        `${detail.revoked} grants revoked (${detail.alsoHeld} already revoked by another incident, ${detail.owners} owner grants kept` +
        `${detail.notRevoked ? `, ${detail.notRevoked} NOT revoked` : ''}) on ${datasetIds.join(', ')}` +
        (Object.keys(detail.byBackend).length
          ? `; by access system: ${Object.entries(detail.byBackend)
              .map(([b, n]) => `${b} ${n}`)
              .join(', ')}`
          : ''),
      data: { ...step.counts, continuations: step.continuations, datasetIds },
    });
    if (detail.notRevoked) await reportUnrevoked(deps, incident, datasetIds, detail.notRevoked, finishedAt);
    await deps.events.publish(DetailType.GrantsRevoked, detail);
  }
  // Restores approved while this revocation ran recorded that they wait for it (in the incident's
  // own partition, read strongly consistent): queue those not finished yet. A restore writes its
  // WAITING entry before it looks at the revocation again, so one of the two always sees the other.
  const finished = new Set([...done, ...datasetIds]);
  if (exposed.every((d) => finished.has(d))) {
    for (const requestId of await waitingRestores(deps, incident.incidentId)) {
      await deps.work.enqueue({
        type: 'restore',
        incidentId: incident.incidentId,
        programId: incident.programId,
        requestId,
        continuation: 0,
      });
    }
  }
  return 'DONE';
}

/** What stays in force is a finding of the incident, never a silent success: in its timeline, and the operators told. */
async function reportUnrevoked(deps: GrantWorkDeps, incident: Incident, datasetIds: string[], count: number, at: string): Promise<void> {
  const entries = await deps.revocations.unrevoked(incident.incidentId, 20);
  const lines = entries.map((e) => `- ${e.datasetId} [${e.backend}] ${e.label}: ${e.reason}`);
  await deps.incidents.record(`ACCESS_NOT_REVOKED#${datasetIds.join(',')}`, {
    incidentId: incident.incidentId,
    at,
    type: 'ACCESS_NOT_REVOKED',
    actor: 'killswitch:revoke-grants',
    message: `${count} access entries could not be revoked and stay in force:\n${lines.join('\n')}`.slice(0, 4000),
    data: {
      count,
      entries: entries.map(({ datasetId, backend, key, reason }) => ({ datasetId, backend, key, reason: reason.slice(0, 300) })),
    },
  });
  await deps.alerts.send({
    subject: `[killswitch] access NOT revoked for ${incident.incidentId}`,
    severity: 'HIGH',
    programId: incident.programId,
    incidentId: incident.incidentId,
    lines: [
      `${count} access entries of the exposed datasets stay in force: cut them by hand or make the quarantine possible.`,
      ...lines.slice(0, 10),
    ],
  });
}

/** Restores of the incident that recorded they wait for its revocation and have not finished. */
async function waitingRestores(deps: GrantWorkDeps, incidentId: string): Promise<string[]> {
  const timeline = await deps.incidents.timeline(incidentId);
  const requestOf = (e: { data?: Record<string, unknown> }) => (typeof e.data?.requestId === 'string' ? e.data.requestId : undefined);
  const restored = new Set(timeline.filter((e) => e.type === 'GRANTS_RESTORED').map(requestOf));
  return [...new Set(timeline.filter((e) => e.type === 'RESTORE_WAITING').map(requestOf))].filter(
    (id): id is string => id !== undefined && !restored.has(id),
  );
}

async function restore(work: RestoreWork, incident: Incident, budget: Budget, deps: GrantWorkDeps): Promise<GrantWorkOutcome> {
  const request = await deps.approvals.get(work.requestId);
  const approved =
    request?.kind === 'RESTORE_GRANTS' &&
    request.status === 'APPROVED' &&
    request.incidentId === incident.incidentId &&
    request.programId === incident.programId &&
    request.approvedBy !== undefined &&
    request.approvedByPerson !== undefined &&
    request.requestedByPerson !== undefined &&
    request.datasetIds !== undefined &&
    !samePerson(request.requestedByPerson, request.approvedByPerson);
  if (!approved || !request.approvedBy || !request.datasetIds)
    return refuse(deps, work, `restore ${work.requestId} is not a two-person restore of ${incident.incidentId} approved in the ledger`);
  const clock = deps.clock ?? (() => new Date());
  if (incident.action !== 'RECORDED') {
    const configured = new Set(deps.programs.find(incident.programId)?.datasetIds ?? []);
    const covered = request.datasetIds;
    const pendingNow = async () => {
      const done = await deps.revocations.datasetsDone(incident.incidentId);
      return covered.filter((d) => configured.has(d) && !done.has(d));
    };
    const pending = await pendingNow();
    if (pending.length) {
      // Say that it waits first, then look again: a revocation finishing meanwhile either sees this
      // entry (and queues the restore) or finished before the second look (and the restore runs now).
      await deps.incidents.record(`RESTORE_WAITING#${request.requestId}`, {
        incidentId: incident.incidentId,
        at: clock().toISOString(),
        type: 'RESTORE_WAITING',
        actor: 'killswitch:revoke-grants',
        message: `restore ${request.requestId} waits for the revocation of ${pending.join(', ')} to finish; it runs then`,
        data: { requestId: request.requestId, pending },
      });
      if ((await pendingNow()).length) return 'WAITING';
    }
  }
  // Only the grants of the datasets the request saw: those an escalation added since stay revoked.
  const step = await deps.restorer.run(work, budget, request.approvedBy, new Set(request.datasetIds));
  if (!step.done) {
    await deps.work.enqueue(step.next);
    return 'CONTINUED';
  }
  const finishedAt = clock().toISOString();
  const detail: GrantsRestored = {
    incidentId: incident.incidentId,
    programId: incident.programId,
    requestId: request.requestId,
    ...step.counts,
    finishedAt,
  };
  const summary = `${detail.restored} grants restored, ${detail.stillHeld} still held by another incident, ${detail.skipped} skipped (changed or deleted since)`;
  const firstRestore = await deps.incidents.record(`GRANTS_RESTORED#${request.requestId}`, {
    incidentId: incident.incidentId,
    at: finishedAt,
    type: 'GRANTS_RESTORED',
    actor: request.approvedBy,
    message: summary,
    data: { ...step.counts, requestId: request.requestId },
  });
  await deps.events.publish(DetailType.GrantsRestored, detail);
  if (firstRestore) deps.telemetry?.count('GrantsRestored', detail.restored, { programId: incident.programId });
  await deps.alerts.send({
    subject: `[killswitch] grants restored for ${incident.incidentId}`,
    severity: 'HIGH',
    programId: incident.programId,
    incidentId: incident.incidentId,
    lines: [summary, `Details: the operator "incident" action for ${incident.incidentId}`],
  });
  return 'DONE';
}

/** Work the ledger does not back: never acted on, kept in the DLQ with the reason, and the operators told. */
async function refuse(deps: GrantWorkDeps, work: GrantWork, reason: string): Promise<never> {
  await deps.alerts.send({
    subject: `[killswitch] grant work refused for ${work.incidentId}`,
    severity: 'HIGH',
    programId: work.programId,
    incidentId: work.incidentId,
    lines: [
      `Refused: ${reason}`,
      `Work:    ${work.type} (kept in the grant-work DLQ)`,
      'A message the ledger does not back reached the grant-work queue: check who can send to it.',
    ],
  });
  throw new PermanentWorkError('grant work', reason);
}
