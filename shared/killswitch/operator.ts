import { randomUUID } from 'node:crypto';
import type { Principal } from '../schemas/common.ts';
import { DetailType, type KillSwitchEngaged, type KillSwitchReleased } from '../schemas/domain-events.ts';
import type { ApprovalRequest, Incident, ResumeRequest, RestoreRequest, TimelineEntry, AuditEntry } from '../schemas/ledger.ts';
import type {
  ApproveRestoreGrantsCommand,
  ApproveResumeCommand,
  OperatorCommand,
  PauseCommand,
  RequestResumeCommand,
  RestoreGrantsCommand,
  NotifyCommand,
  ResendFailedCommand,
} from '../schemas/operator.ts';
import type { PlanWork } from '../schemas/notices.ts';
import type { NoticeCounts, NoticeLedger } from '../stores/ledger/notice-ledger.ts';
import type { GrantWork } from '../schemas/grants.ts';
import type { WorkQueue } from '../aws/work-queue.ts';
import type { RevocationLedger } from '../stores/ledger/revocations.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import { NotFoundError, PolicyRefusedError, StateConflictError, UnknownProgramError, ValidationError } from '../errors.ts';
import type { ProgramRegistry } from '../config/env.ts';
import type { ProgramStateStore } from '../stores/program-state-store.ts';
import type { ApprovalRequests, AuditTrail, IncidentLedger } from '../stores/ledger/index.ts';
import type { DomainEventPublisher } from '../aws/domain-event-publisher.ts';
import type { OperatorAlerts } from '../aws/operator-alerts.ts';
import { incidentIdFor, newIncidentId, uuidFor } from './ids.ts';

export interface OperatorDeps {
  programs: ProgramRegistry;
  state: ProgramStateStore;
  incidents: IncidentLedger;
  audit: AuditTrail;
  approvals: ApprovalRequests;
  events: DomainEventPublisher;
  alerts: OperatorAlerts;
  /** Grant restore: where approved restores are queued, and the revocation snapshot. */
  grantWork?: WorkQueue<GrantWork>;
  revocations?: RevocationLedger;
  /** Notices: where planning work is queued, and the delivery ledger. */
  noticeWork?: WorkQueue<PlanWork>;
  notices?: NoticeLedger;
  clock?: () => Date;
}

export interface PauseResultView {
  action: 'pause';
  outcome: 'PAUSED' | 'ALREADY_PAUSED';
  incidentId: string;
  state: ProgramState;
}
export interface StatusView {
  action: 'status';
  programs: { programId: string; status: 'ACTIVE' | 'PAUSED' | 'UNREGISTERED'; scopes: ProgramState[] }[];
}
export interface ResumeRequestView {
  action: 'request-resume' | 'approve-resume';
  request: ResumeRequest;
  state?: ProgramState;
}
export interface IncidentView {
  action: 'incident';
  incident: Incident;
  timeline: TimelineEntry[];
  audit: AuditEntry[];
  grants?: { revoked: number; alsoHeld: number };
  notices?: NoticeCounts;
}
export interface NotifyView {
  action: 'notify' | 'resend-failed';
  incidentId: string;
  queued: true;
  notices: NoticeCounts;
}
export interface RestoreRequestView {
  action: 'restore-grants' | 'approve-restore-grants';
  request: RestoreRequest;
  /** Set once approved: the restore runs asynchronously; progress is in the incident timeline. */
  queued?: boolean;
}
export interface IncidentListView {
  action: 'list-incidents';
  incidents: Incident[];
}
export type OperatorResult = PauseResultView | StatusView | ResumeRequestView | IncidentView | IncidentListView | RestoreRequestView | NotifyView;

/**
 * Use case: a person on call acts on the kill switch.
 *
 * Pausing is immediate and always allowed, even without a verified identity (break-glass).
 * Resuming takes two verified people: one requests (with a reason and the incident it closes),
 * another approves, and the approval applies only if the state is still at the version the
 * request saw. Every action lands in the incident timeline and the audit trail.
 */
export class OperatorService {
  readonly #clock: () => Date;
  constructor(private readonly deps: OperatorDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  execute(command: OperatorCommand, principal: Principal): Promise<OperatorResult> {
    switch (command.action) {
      case 'pause':
        return this.pause(command, principal);
      case 'status':
        return this.status(command.programId);
      case 'request-resume':
        return this.requestResume(command, principal);
      case 'approve-resume':
        return this.approveResume(command, principal);
      case 'incident':
        return this.incident(command.incidentId);
      case 'list-incidents':
        return this.deps.incidents.list(command.limit, command.programId).then((incidents) => ({ action: 'list-incidents', incidents }));
      case 'restore-grants':
        return this.requestRestore(command, principal);
      case 'approve-restore-grants':
        return this.approveRestore(command, principal);
      case 'notify':
      case 'resend-failed':
        return this.notify(command, principal);
    }
  }

  /**
   * 1. Flip the flag (first write). 2. Open or link the incident, audit the version.
   * 3. Put `Kill Switch Engaged` on the bus and alert the other operators.
   */
  async pause(command: PauseCommand, principal: Principal): Promise<PauseResultView> {
    const program = this.#program(command.programId);
    const at = this.#clock();
    const incidentId =
      command.incidentId ??
      (command.idempotencyKey ? incidentIdFor(`${principal.id}/${command.idempotencyKey}`, at) : newIncidentId(at));
    const trigger = principal.verified ? 'OPERATOR' : 'BREAK_GLASS';

    const result = await this.deps.state.pause({
      programId: command.programId,
      scope: command.scope,
      incidentId,
      reason: command.reason,
      changedBy: principal,
      trigger,
      at,
    });
    const ours = result.outcome === 'PAUSED' || result.state.incidentId === incidentId;
    if (!ours && !command.incidentId) {
      // Already paused by another incident, and the operator named none: nothing new to record.
      return { action: 'pause', outcome: 'ALREADY_PAUSED', incidentId: result.state.incidentId ?? incidentId, state: result.state };
    }

    if (command.incidentId) {
      if (!(await this.deps.incidents.get(command.incidentId))) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    } else {
      await this.deps.incidents.open(this.#operatorIncident(program, command, principal, incidentId, result.state, at));
    }
    await Promise.all([
      ours ? this.deps.audit.recordState(result.state) : undefined,
      this.deps.incidents.record(ours ? `STATE#${command.scope}#v${result.state.version}` : `LINKED#${principal.id}#${at.toISOString()}`, {
        incidentId,
        at: result.state.changedAt,
        type: ours ? 'STATE_CHANGED' : 'PAUSE_REQUESTED_ALREADY_PAUSED',
        actor: principal.id,
        message: `${command.programId}/${command.scope} PAUSED at version ${result.state.version} by ${trigger.toLowerCase().replace('_', '-')}`,
        data: { version: result.state.version, status: 'PAUSED', scope: command.scope, verified: principal.verified },
      }),
    ]);
    if (ours) {
      const engaged: KillSwitchEngaged = {
        incidentId,
        programId: command.programId,
        scope: command.scope,
        stateVersion: result.state.version,
        stateChanged: true,
        datasetIds: [...program.datasetIds],
        severity: 'CRITICAL',
        trigger,
        notify: 'manual',
        engagedAt: result.state.changedAt,
      };
      await this.deps.events.publish(DetailType.KillSwitchEngaged, engaged);
      await this.deps.alerts.send({
        subject: `[killswitch] ${command.programId} paused by an operator`,
        severity: 'CRITICAL',
        programId: command.programId,
        incidentId,
        lines: [
          `Incident: ${incidentId}`,
          `Program:  ${command.programId} (scope ${command.scope}) PAUSED at version ${result.state.version}`,
          `By:       ${principal.id}${principal.verified ? '' : ' (break-glass, identity not verified)'}`,
        ],
      });
    }
    return { action: 'pause', outcome: ours ? 'PAUSED' : 'ALREADY_PAUSED', incidentId, state: result.state };
  }

  async status(programId?: string): Promise<StatusView> {
    const programs = programId ? [this.#program(programId)] : this.deps.programs.all();
    const views = await Promise.all(
      programs.map(async (p) => {
        const scopes = await this.deps.state.list(p.programId);
        const global = scopes.find((s) => s.scope === '*');
        const status: StatusView['programs'][number]['status'] = !global
          ? 'UNREGISTERED'
          : scopes.some((s) => s.status === 'PAUSED')
            ? 'PAUSED'
            : 'ACTIVE';
        return { programId: p.programId, status, scopes };
      }),
    );
    return { action: 'status', programs: views };
  }

  /** 1. Check the scope is paused and the incident exists. 2. Record a PENDING request at the current version. */
  async requestResume(command: RequestResumeCommand, principal: Principal): Promise<ResumeRequestView> {
    this.#requireVerified(principal, 'request a resume');
    this.#program(command.programId);
    const current = await this.deps.state.get(command.programId, command.scope);
    if (!current || current.state.status !== 'PAUSED') {
      throw new StateConflictError(`${command.programId}/${command.scope} is not paused; there is nothing to resume`);
    }
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    if (incident.programId !== command.programId) {
      throw new ValidationError('command', [{ path: 'incidentId', message: `belongs to program ${incident.programId}, not ${command.programId}` }]);
    }
    const at = this.#clock();
    const requestId = command.idempotencyKey ? uuidFor(`${principal.id}/${command.idempotencyKey}`) : randomUUID();
    const request: ResumeRequest = {
      kind: 'RESUME',
      requestId,
      programId: command.programId,
      scope: command.scope,
      incidentId: command.incidentId,
      reason: command.reason,
      requestedBy: principal.id,
      requestedAt: at.toISOString(),
      expectedVersion: current.state.version,
      status: 'PENDING',
    };
    if (!(await this.deps.approvals.create(request))) {
      const existing = await this.deps.approvals.get(requestId);
      if (existing?.kind !== 'RESUME') throw new StateConflictError(`resume request ${requestId} could not be read back`);
      return { action: 'request-resume', request: existing, state: current.state };
    }
    await this.deps.incidents.record(`RESUME_REQUESTED#${requestId}`, {
      incidentId: command.incidentId,
      at: request.requestedAt,
      type: 'RESUME_REQUESTED',
      actor: principal.id,
      message: `resume of ${command.programId}/${command.scope} requested at version ${request.expectedVersion}; awaiting a second person`,
      data: { requestId, expectedVersion: request.expectedVersion },
    });
    await this.deps.alerts.send({
      subject: `[killswitch] resume of ${command.programId} needs a second approver`,
      severity: 'HIGH',
      programId: command.programId,
      incidentId: command.incidentId,
      lines: [
        `Request:  ${requestId}`,
        `Program:  ${command.programId} (scope ${command.scope}) at version ${request.expectedVersion}`,
        `By:       ${principal.id}`,
        `Approve:  killswitch resume approve --program ${command.programId} --request ${requestId}`,
      ],
    });
    return { action: 'request-resume', request, state: current.state };
  }

  /**
   * 1. A different verified person approves a PENDING request.
   * 2. One conditional write resumes the scope only at the version the request saw.
   * 3. The request, the incidents it closes, the audit trail and the bus learn of it.
   */
  async approveResume(command: ApproveResumeCommand, principal: Principal): Promise<ResumeRequestView> {
    this.#requireVerified(principal, 'approve a resume');
    const request = await this.deps.approvals.get(command.requestId);
    if (request?.kind !== 'RESUME' || request.programId !== command.programId) {
      throw new NotFoundError(`resume request ${command.requestId} does not exist for program ${command.programId}`);
    }
    if (this.#checkApprover(request, principal) === 'RETRY') return { action: 'approve-resume', request };

    const at = this.#clock();
    const open = await this.deps.incidents.list(100, request.programId);
    const closes = [
      ...new Set([request.incidentId, ...open.filter((i) => i.status === 'OPEN' && i.scope === request.scope).map((i) => i.incidentId)]),
    ];
    let state: ProgramState;
    try {
      state = await this.deps.state.resume({
        programId: request.programId,
        scope: request.scope,
        expectedVersion: request.expectedVersion,
        requestId: request.requestId,
        reason: command.reason ?? request.reason,
        changedBy: principal,
        closesIncidentIds: closes,
        at,
      });
    } catch (error) {
      if (error instanceof StateConflictError) {
        await this.deps.approvals.decide(request.requestId, { status: 'REJECTED', by: principal.id, at, reason: error.message });
      }
      throw error;
    }

    const decided = await this.deps.approvals.decide(request.requestId, {
      status: 'APPROVED',
      by: principal.id,
      at,
      reason: command.reason,
      stateVersion: state.version,
    });
    const reread = decided ? await this.deps.approvals.get(request.requestId) : undefined;
    const final = reread?.kind === 'RESUME' ? reread : undefined;
    await Promise.all([
      this.deps.audit.recordState(state),
      ...closes.map((id) => this.deps.incidents.resolve(id, principal.id, at)),
      ...closes.map((id) =>
        this.deps.incidents.record(`RESUMED#${request.requestId}`, {
          incidentId: id,
          at: state.changedAt,
          type: 'STATE_CHANGED',
          actor: principal.id,
          message: `${request.programId}/${request.scope} ACTIVE at version ${state.version}: requested by ${request.requestedBy}, approved by ${principal.id}`,
          data: { version: state.version, status: 'ACTIVE', scope: request.scope, requestId: request.requestId },
        }),
      ),
    ]);
    const released: KillSwitchReleased = {
      incidentId: request.incidentId,
      programId: request.programId,
      scope: request.scope,
      stateVersion: state.version,
      requestId: request.requestId,
      releasedAt: state.changedAt,
    };
    await this.deps.events.publish(DetailType.KillSwitchReleased, released);
    return { action: 'approve-resume', request: final ?? { ...request, status: 'APPROVED', approvedBy: principal.id }, state };
  }

  async incident(incidentId: string): Promise<IncidentView> {
    const incident = await this.deps.incidents.get(incidentId);
    if (!incident) throw new NotFoundError(`incident ${incidentId} does not exist`);
    const [timeline, audit, grants, notices] = await Promise.all([
      this.deps.incidents.timeline(incidentId),
      this.deps.audit.history(incident.programId, incident.scope),
      this.deps.revocations?.counts(incidentId),
      this.deps.notices?.counts(incidentId),
    ]);
    // The versions this incident set, and the resume that closed it.
    const resumeIds = new Set(timeline.map((t) => t.data?.requestId).filter((r): r is string => typeof r === 'string'));
    return {
      action: 'incident',
      incident,
      timeline,
      audit: audit.filter((a) => a.incidentId === incidentId || (a.requestId !== undefined && resumeIds.has(a.requestId))),
      ...(grants ? { grants: { revoked: grants.revoked, alsoHeld: grants.alsoHeld } } : {}),
      ...(notices ? { notices } : {}),
    };
  }

  /**
   * Tell the affected employees (`notify`), or try the FAILED notices again (`resend-failed`).
   * Planning is queued and runs asynchronously; planning an incident twice notifies nobody twice.
   */
  async notify(command: NotifyCommand | ResendFailedCommand, principal: Principal): Promise<NotifyView> {
    this.#requireVerified(principal, `run ${command.action}`);
    if (!this.deps.noticeWork || !this.deps.notices) throw new StateConflictError('notices are not available in this function');
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    await this.deps.noticeWork.enqueue({
      type: 'plan',
      incidentId: incident.incidentId,
      programId: incident.programId,
      noticeType: command.noticeType,
      mode: command.action === 'notify' ? 'all' : 'failed',
      datasetIds: incident.datasetIds,
      continuation: 0,
      planned: 0,
    });
    const at = this.#clock().toISOString();
    await this.deps.incidents.record(`${command.action.toUpperCase()}#${principal.id}#${at}`, {
      incidentId: incident.incidentId,
      at,
      type: command.action === 'notify' ? 'NOTIFY_REQUESTED' : 'RESEND_REQUESTED',
      actor: principal.id,
      message: command.action === 'notify' ? `${command.noticeType} notices requested` : `failed ${command.noticeType} notices queued again`,
    });
    return { action: command.action, incidentId: incident.incidentId, queued: true, notices: await this.deps.notices.counts(incident.incidentId) };
  }

  /** Ask for the incident's revoked grants to be restored; a second person must approve. */
  async requestRestore(command: RestoreGrantsCommand, principal: Principal): Promise<RestoreRequestView> {
    this.#requireVerified(principal, 'request a grant restore');
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    const at = this.#clock();
    const request: RestoreRequest = {
      kind: 'RESTORE_GRANTS',
      requestId: command.idempotencyKey ? uuidFor(`${principal.id}/${command.idempotencyKey}`) : randomUUID(),
      programId: incident.programId,
      incidentId: incident.incidentId,
      reason: command.reason,
      requestedBy: principal.id,
      requestedAt: at.toISOString(),
      status: 'PENDING',
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
      message: 'restore of the revoked grants requested; awaiting a second person',
      data: { requestId: request.requestId },
    });
    return { action: 'restore-grants', request };
  }

  /** A different verified person approves; the restore is queued and runs asynchronously. */
  async approveRestore(command: ApproveRestoreGrantsCommand, principal: Principal): Promise<RestoreRequestView> {
    this.#requireVerified(principal, 'approve a grant restore');
    if (!this.deps.grantWork) throw new StateConflictError('grant restore is not available in this function');
    const request = await this.deps.approvals.get(command.requestId);
    if (request?.kind !== 'RESTORE_GRANTS') throw new NotFoundError(`restore request ${command.requestId} does not exist`);
    if (this.#checkApprover(request, principal) === 'RETRY') return { action: 'approve-restore-grants', request, queued: true };
    const at = this.#clock();
    if (await this.deps.approvals.decide(request.requestId, { status: 'APPROVED', by: principal.id, at, reason: command.reason })) {
      await this.deps.grantWork.enqueue({
        type: 'restore',
        incidentId: request.incidentId,
        programId: request.programId,
        requestId: request.requestId,
        approvedBy: principal.id,
        continuation: 0,
      });
      await this.deps.incidents.record(`RESTORE_APPROVED#${request.requestId}`, {
        incidentId: request.incidentId,
        at: at.toISOString(),
        type: 'RESTORE_APPROVED',
        actor: principal.id,
        message: `restore approved (requested by ${request.requestedBy}); running`,
        data: { requestId: request.requestId },
      });
    }
    return { action: 'approve-restore-grants', request: { ...request, status: 'APPROVED', approvedBy: principal.id }, queued: true };
  }

  /** Two-person rule shared by every approval: `RETRY` when this approver already approved it. */
  #checkApprover(request: ApprovalRequest, principal: Principal): 'APPROVE' | 'RETRY' {
    if (request.requestedBy === principal.id) {
      throw new PolicyRefusedError('a request must be approved by a different person than the one who made it');
    }
    if (request.status === 'APPROVED' && request.approvedBy === principal.id) return 'RETRY';
    if (request.status !== 'PENDING') {
      throw new StateConflictError(`request ${request.requestId} was already ${request.status.toLowerCase()}`);
    }
    return 'APPROVE';
  }

  #program(programId: string): ProgramConfig {
    const program = this.deps.programs.find(programId);
    if (!program) throw new UnknownProgramError(programId);
    return program;
  }

  #requireVerified(principal: Principal, what: string): void {
    if (!principal.verified) {
      throw new PolicyRefusedError(`only a verified identity (the operator Function URL with AWS_IAM auth) may ${what}`);
    }
  }

  #operatorIncident(
    program: ProgramConfig,
    command: PauseCommand,
    principal: Principal,
    incidentId: string,
    state: ProgramState,
    at: Date,
  ): Incident {
    return {
      incidentId,
      programId: program.programId,
      scope: command.scope,
      severity: 'CRITICAL',
      status: 'OPEN',
      action: 'PAUSED',
      openedAt: at.toISOString(),
      openedBy: principal.id,
      trigger: principal.verified ? 'OPERATOR' : 'BREAK_GLASS',
      summary: command.reason,
      datasetIds: [...program.datasetIds],
      unknownDatasetIds: [],
      stateVersion: state.version,
      notify: 'manual',
    };
  }
}
