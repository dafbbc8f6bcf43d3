import { randomUUID } from 'node:crypto';
import type { Principal } from '../schemas/common.ts';
import type { GrantWork } from '../schemas/grants.ts';
import type { RestoreRequest } from '../schemas/ledger.ts';
import type { ApproveRestoreGrantsCommand, RestoreGrantsCommand } from '../schemas/operator.ts';
import { NotFoundError, PolicyRefusedError, StateConflictError } from '../domain/errors.ts';
import { requireOperator, samePerson } from '../domain/identity.ts';
import { uuidFor } from '../domain/ids.ts';
import type { ApprovalRecords, Clock, IncidentRecords, WorkQueue } from './ports.ts';

export interface RestoreRequestDeps {
  incidents: IncidentRecords;
  approvals: ApprovalRecords;
  /** Where approved restores are queued (the grant worker). */
  grantWork: WorkQueue<GrantWork>;
  clock?: Clock;
}

export interface RestoreRequestView {
  action: 'restore-grants' | 'approve-restore-grants';
  request: RestoreRequest;
  /** Set once approved: the restore runs asynchronously, after the incident's revocation; progress is in the incident timeline. */
  queued?: boolean;
}

/**
 * Use cases: the two-person restore of the grants an incident revoked.
 *
 * Request: a verified person asks, with a reason. Approve: a different person (compared by person)
 * approves; the restore is queued to the grant worker, which itself checks the approval in the
 * ledger and waits for the incident's revocation to finish. Every retry of an approval queues the
 * restore again (the restore is idempotent), so a crash between deciding and queuing loses nothing.
 */
export class RestoreRequests {
  readonly #clock: Clock;
  constructor(private readonly deps: RestoreRequestDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async request(command: RestoreGrantsCommand, principal: Principal): Promise<RestoreRequestView> {
    requireOperator(principal, 'request a grant restore');
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    const at = this.#clock();
    const request: RestoreRequest = {
      kind: 'RESTORE_GRANTS',
      requestId: command.idempotencyKey ? uuidFor(`${principal.person}/${command.idempotencyKey}`) : randomUUID(),
      programId: incident.programId,
      incidentId: incident.incidentId,
      reason: command.reason,
      requestedBy: principal.id,
      requestedByPerson: principal.person,
      requestedAt: at.toISOString(),
      status: 'PENDING',
      datasetIds: incident.datasetIds,
      revision: incident.revision,
    };
    if (!(await this.deps.approvals.create(request))) {
      const existing = await this.deps.approvals.get(request.requestId);
      if (existing?.kind !== 'RESTORE_GRANTS') throw new StateConflictError(`restore request ${request.requestId} could not be read back`);
      return { action: 'restore-grants', request: existing };
    }
    await this.deps.incidents.record(`RESTORE_REQUESTED#${request.requestId}`, {
      incidentId: incident.incidentId,
      at: request.requestedAt,
      type: 'RESTORE_REQUESTED',
      actor: principal.id,
      message: `restore of the revoked grants requested by ${principal.person}; awaiting a second person`,
      data: { requestId: request.requestId },
    });
    return { action: 'restore-grants', request };
  }

  async approve(command: ApproveRestoreGrantsCommand, principal: Principal): Promise<RestoreRequestView> {
    requireOperator(principal, 'approve a grant restore');
    const request = await this.deps.approvals.get(command.requestId);
    if (request?.kind !== 'RESTORE_GRANTS') throw new NotFoundError(`restore request ${command.requestId} does not exist`);
    const at = this.#clock();
    if (!request.requestedByPerson || request.datasetIds === undefined || request.revision === undefined) {
      await this.#refusal(request, principal, at, 'the request was made before requests recorded their person and datasets');
      throw new PolicyRefusedError(
        `restore request ${request.requestId} predates two-person identities and cannot be approved; ask for the restore again`,
      );
    }
    if (samePerson(request.requestedByPerson, principal)) {
      await this.#refusal(request, principal, at, `${principal.person} asked for it`);
      throw new PolicyRefusedError(
        `a restore must be approved by a different person than the one who requested it (${request.requestedByPerson}), whatever session name or role they use`,
      );
    }
    if (request.status === 'REJECTED')
      throw new StateConflictError(`request ${request.requestId} was rejected: ${request.decisionReason ?? 'no reason recorded'}`);
    let approved = request;
    if (request.status === 'PENDING') {
      const incident = await this.deps.incidents.get(request.incidentId);
      if (incident && incident.revision > request.revision) {
        const reason = `incident ${incident.incidentId} escalated after the request (revision ${request.revision} → ${incident.revision}); its new datasets were revoked since`;
        await this.deps.approvals.decide(request.requestId, { status: 'REJECTED', by: principal, at, reason });
        await this.#refusal(request, principal, at, reason);
        throw new StateConflictError(`the restore was not approved: ${reason}; ask for a restore that covers it`);
      }
      if (await this.deps.approvals.decide(request.requestId, { status: 'APPROVED', by: principal, at, reason: command.reason })) {
        approved = {
          ...request,
          status: 'APPROVED',
          approvedBy: principal.id,
          approvedByPerson: principal.person,
          decidedAt: at.toISOString(),
        };
      } else {
        const decided = await this.deps.approvals.get(request.requestId);
        if (decided?.kind !== 'RESTORE_GRANTS' || decided.status !== 'APPROVED')
          throw new StateConflictError(`request ${request.requestId} was decided by someone else meanwhile`);
        approved = decided;
      }
    }
    // Queued on every approval call: a retry after a crash between the decision and this line queues it then.
    await this.deps.grantWork.enqueue({
      type: 'restore',
      incidentId: approved.incidentId,
      programId: approved.programId,
      requestId: approved.requestId,
      continuation: 0,
    });
    await this.deps.incidents.record(`RESTORE_APPROVED#${approved.requestId}`, {
      incidentId: approved.incidentId,
      at: approved.decidedAt ?? at.toISOString(),
      type: 'RESTORE_APPROVED',
      actor: approved.approvedBy ?? principal.id,
      message: `restore approved by ${approved.approvedByPerson} (requested by ${approved.requestedByPerson}); it runs once the incident's revocation has finished`,
      data: { requestId: approved.requestId },
    });
    return { action: 'approve-restore-grants', request: approved, queued: true };
  }

  /** Refused approvals appear in the incident's timeline, where the operators look. */
  async #refusal(request: RestoreRequest, principal: Principal, at: Date, reason: string): Promise<void> {
    await this.deps.incidents.record(`RESTORE_REFUSED#${request.requestId}#${principal.person ?? principal.id}#${at.toISOString()}`, {
      incidentId: request.incidentId,
      at: at.toISOString(),
      type: 'RESTORE_REFUSED',
      actor: principal.id,
      message: `approval of restore ${request.requestId} refused: ${reason}`,
      data: { requestId: request.requestId },
    });
  }
}
