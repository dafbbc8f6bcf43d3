import { randomUUID } from 'node:crypto';
import type { Principal } from '../schemas/common.ts';
import { DetailType, type KillSwitchReleased } from '../schemas/domain-events.ts';
import type { ResumeRequest } from '../schemas/ledger.ts';
import type { ApproveResumeCommand, RequestResumeCommand } from '../schemas/operator.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { NotFoundError, PolicyRefusedError, StateConflictError, UnknownProgramError, ValidationError } from '../domain/errors.ts';
import { requireOperator, samePerson } from '../domain/identity.ts';
import { uuidFor } from '../domain/ids.ts';
import { declaredScopes, isDeclaredScope } from '../domain/scopes.ts';
import type { Alerts, ApprovalRecords, AuditRecords, Clock, DomainEvents, IncidentRecords, Programs, ProgramStates } from './ports.ts';

export interface ResumeDeps {
  programs: Programs;
  state: ProgramStates;
  incidents: IncidentRecords;
  audit: AuditRecords;
  approvals: ApprovalRecords;
  events: DomainEvents;
  alerts: Alerts;
  clock?: Clock;
}

export interface ResumeRequestView {
  action: 'request-resume' | 'approve-resume';
  request: ResumeRequest;
  state?: ProgramState;
}

/**
 * Use cases: the two-person resume.
 *
 * Request (one verified person):
 * 1. The scope is declared and PAUSED, the incident exists and is the program's.
 * 2. Record the request with what it saw: the state version, the pause attempts registered on the
 *    scope, the open incidents of the scope and their revisions. The approval binds all of them.
 *
 * Approve (a second, different person — compared by person, never by session name):
 * 1. Refuse the requester, a decided request, and any newer incident or escalation on the scope
 *    (recorded in the incident's timeline).
 * 2. One conditional write resumes the scope only at the version and pause attempts the request saw.
 * 3. Decide the request, audit the version, resolve the incidents it saw, put `Kill Switch Released`.
 *    Every retry of an approval completes whatever of step 3 a crash left undone.
 */
export class ResumeProgram {
  readonly #clock: Clock;
  constructor(private readonly deps: ResumeDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async request(command: RequestResumeCommand, principal: Principal): Promise<ResumeRequestView> {
    requireOperator(principal, 'request a resume');
    const program = this.deps.programs.find(command.programId);
    if (!program) throw new UnknownProgramError(command.programId);
    if (!isDeclaredScope(program, command.scope)) {
      throw new ValidationError('request-resume command', [
        {
          path: 'scope',
          message: `"${command.scope}" is not a scope of program ${program.programId}; its scopes are ${declaredScopes(program).join(', ')}`,
        },
      ]);
    }
    const current = await this.deps.state.get(command.programId, command.scope);
    if (!current || current.state.status !== 'PAUSED')
      throw new StateConflictError(`${command.programId}/${command.scope} is not paused; there is nothing to resume`);
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    if (incident.programId !== command.programId) {
      throw new ValidationError('request-resume command', [
        { path: 'incidentId', message: `belongs to program ${incident.programId}, not ${command.programId}` },
      ]);
    }
    if (incident.scope !== command.scope && incident.incidentId !== current.state.incidentId) {
      throw new ValidationError('request-resume command', [
        {
          path: 'incidentId',
          message: `concerns scope ${incident.scope}, not ${command.scope}; name the incident holding ${command.scope} (${current.state.incidentId ?? 'none recorded'}) or one opened on it`,
        },
      ]);
    }
    const open = await this.deps.incidents.openOn(command.programId, command.scope);
    const holder = current.state.incidentId ? await this.deps.incidents.get(current.state.incidentId) : undefined;
    // The holder of the pause is always closed with it (its cause too), whatever its status says.
    const seen = [incident, ...(holder ? [holder] : []), ...open].filter(
      (i) => i.status === 'OPEN' || i.incidentId === incident.incidentId || i.incidentId === holder?.incidentId,
    );
    const at = this.#clock();
    const request: ResumeRequest = {
      kind: 'RESUME',
      requestId: command.idempotencyKey ? uuidFor(`${principal.person}/${command.idempotencyKey}`) : randomUUID(),
      programId: command.programId,
      scope: command.scope,
      incidentId: command.incidentId,
      reason: command.reason,
      requestedBy: principal.id,
      requestedByPerson: principal.person,
      requestedAt: at.toISOString(),
      expectedVersion: current.state.version,
      expectedLinks: current.links,
      closes: [...new Set(seen.map((i) => i.incidentId))],
      seenRevisions: Object.fromEntries(seen.map((i) => [i.incidentId, i.revision])),
      status: 'PENDING',
    };
    if (!(await this.deps.approvals.create(request))) {
      const existing = await this.deps.approvals.get(request.requestId);
      if (existing?.kind !== 'RESUME') throw new StateConflictError(`resume request ${request.requestId} could not be read back`);
      return { action: 'request-resume', request: existing, state: current.state };
    }
    await this.deps.incidents.record(`RESUME_REQUESTED#${request.requestId}`, {
      incidentId: command.incidentId,
      at: request.requestedAt,
      type: 'RESUME_REQUESTED',
      actor: principal.id,
      message: `resume of ${command.programId}/${command.scope} requested by ${principal.person} at version ${request.expectedVersion}; it closes ${request.closes.join(', ')}; awaiting a second person`,
      data: { requestId: request.requestId, expectedVersion: request.expectedVersion, closes: request.closes },
    });
    await this.deps.alerts.send({
      subject: `[killswitch] resume of ${command.programId} needs a second approver`,
      severity: 'HIGH',
      programId: command.programId,
      incidentId: command.incidentId,
      lines: [
        `Request:  ${request.requestId}`,
        `Program:  ${command.programId} (scope ${command.scope}) at version ${request.expectedVersion}`,
        `By:       ${principal.person} (${principal.id})`,
        `Closes:   ${request.closes.join(', ')}`,
        `Approve:  killswitch resume approve --program ${command.programId} --request ${request.requestId}`,
      ],
    });
    return { action: 'request-resume', request, state: current.state };
  }

  async approve(command: ApproveResumeCommand, principal: Principal): Promise<ResumeRequestView> {
    requireOperator(principal, 'approve a resume');
    const request = await this.deps.approvals.get(command.requestId);
    if (request?.kind !== 'RESUME' || request.programId !== command.programId) {
      throw new NotFoundError(`resume request ${command.requestId} does not exist for program ${command.programId}`);
    }
    if (!request.requestedByPerson) {
      await this.#refusal(request, principal, 'the request was made before requests recorded their person');
      throw new PolicyRefusedError(
        `resume request ${request.requestId} predates two-person identities and cannot be approved; request the resume again`,
      );
    }
    if (samePerson(request.requestedByPerson, principal)) {
      await this.#refusal(request, principal, `${principal.person} asked for this resume and cannot also approve it`);
      throw new PolicyRefusedError(
        `a resume must be approved by a different person than the one who requested it (${request.requestedByPerson}), whatever session name or role they use`,
      );
    }
    if (request.status === 'REJECTED')
      throw new StateConflictError(`request ${request.requestId} was rejected: ${request.decisionReason ?? 'no reason recorded'}`);
    if (request.status === 'APPROVED') return this.#complete(request, undefined, command.reason);

    // A retry of an approval whose resume was applied before a crash (the scope may be paused again
    // since): decide and complete it, never refuse it.
    const applied = (await this.deps.state.get(request.programId, request.scope))?.lastResume;
    if (applied?.requestId === request.requestId)
      return this.#decided(request, principal, new Date(applied.at), applied.version, undefined, command.reason);

    const newer = await this.#newerThan(request);
    if (newer) {
      await this.#reject(request, principal, newer);
      throw new StateConflictError(`the resume was not applied: ${newer}; request a new resume that covers it`);
    }
    const at = this.#clock();
    const causes = await Promise.all(request.closes.map(async (id) => [id, (await this.deps.incidents.get(id))?.causeKey]));
    let state: ProgramState;
    try {
      state = await this.deps.state.resume({
        programId: request.programId,
        scope: request.scope,
        expectedVersion: request.expectedVersion,
        expectedLinks: request.expectedLinks,
        requestId: request.requestId,
        closes: causes.flat().filter((c): c is string => typeof c === 'string'),
        at,
      });
    } catch (error) {
      if (error instanceof StateConflictError) await this.#reject(request, principal, error.message);
      throw error;
    }
    return this.#decided(request, principal, at, state.version, state, command.reason);
  }

  /** The resume is applied at `version`: record the decision (once), then complete the rest. */
  async #decided(
    request: ResumeRequest,
    principal: Principal & { person: string },
    at: Date,
    version: number,
    written: ProgramState | undefined,
    reason: string | undefined,
  ): Promise<ResumeRequestView> {
    if (!(await this.deps.approvals.decide(request.requestId, { status: 'APPROVED', by: principal, at, reason, stateVersion: version }))) {
      const decided = await this.deps.approvals.get(request.requestId);
      if (decided?.kind !== 'RESUME' || decided.status !== 'APPROVED')
        throw new StateConflictError(`request ${request.requestId} was decided by someone else meanwhile`);
      return this.#complete(decided, written, reason);
    }
    return this.#complete(
      {
        ...request,
        status: 'APPROVED',
        approvedBy: principal.id,
        approvedByPerson: principal.person,
        decidedAt: at.toISOString(),
        stateVersion: version,
      },
      written,
      reason,
    );
  }

  /** An incident the request did not see is open on the scope, or one it saw has escalated since. */
  async #newerThan(request: ResumeRequest): Promise<string | undefined> {
    const open = await this.deps.incidents.openOn(request.programId, request.scope);
    const unseen = open.filter((i) => !request.closes.includes(i.incidentId));
    if (unseen.length) return `incident ${unseen.map((i) => i.incidentId).join(', ')} opened on ${request.scope} after the request`;
    for (const id of request.closes) {
      const incident = await this.deps.incidents.get(id);
      const seen = request.seenRevisions[id];
      if (incident && seen !== undefined && incident.revision > seen)
        return `incident ${id} escalated after the request (revision ${seen} → ${incident.revision})`;
    }
    return undefined;
  }

  /**
   * Step 3, idempotent: the audit entry of the resumed version, the incidents it closes, the bus.
   * A retry after a crash (or anyone but the requester approving an already approved request) completes what is missing.
   */
  async #complete(request: ResumeRequest, written: ProgramState | undefined, reason: string | undefined): Promise<ResumeRequestView> {
    const version = request.stateVersion;
    if (!version || !request.approvedBy || !request.decidedAt)
      throw new StateConflictError(`request ${request.requestId} is approved but records no resumed version`);
    const approver: Principal = {
      id: request.approvedBy,
      verified: true,
      ...(request.approvedByPerson ? { person: request.approvedByPerson } : {}),
    };
    const state: ProgramState = written ?? {
      programId: request.programId,
      scope: request.scope,
      status: 'ACTIVE',
      version,
      changedAt: request.decidedAt,
      changedBy: 'resume',
      changedByVerified: true,
      reason: `resumed by two-person request ${request.requestId}`,
      trigger: 'RESUME',
      resumeRequestId: request.requestId,
    };
    const at = new Date(state.changedAt);
    await Promise.all([
      this.deps.audit.record(state, { principal: approver, reason: reason ?? request.decisionReason ?? request.reason }),
      ...request.closes.map((id) => this.deps.incidents.resolve(id, approver, at, request.requestId)),
      ...request.closes.map((id) =>
        this.deps.incidents.record(`RESUMED#${request.requestId}`, {
          incidentId: id,
          at: state.changedAt,
          type: 'STATE_CHANGED',
          actor: approver.id,
          message: `${request.programId}/${request.scope} ACTIVE at version ${version}: requested by ${request.requestedByPerson}, approved by ${approver.person}`,
          data: { version, status: 'ACTIVE', scope: request.scope, requestId: request.requestId },
        }),
      ),
    ]);
    const released: KillSwitchReleased = {
      incidentId: request.incidentId,
      programId: request.programId,
      scope: request.scope,
      stateVersion: version,
      requestId: request.requestId,
      releasedAt: state.changedAt,
    };
    await this.deps.events.publish(DetailType.KillSwitchReleased, released);
    return { action: 'approve-resume', request, state };
  }

  async #reject(request: ResumeRequest, principal: Principal, reason: string): Promise<void> {
    await this.deps.approvals.decide(request.requestId, { status: 'REJECTED', by: principal, at: this.#clock(), reason });
    await this.#refusal(request, principal, reason);
  }

  /** Refused approvals appear in the incident's timeline, where the operators look. */
  async #refusal(request: ResumeRequest, principal: Principal, reason: string): Promise<void> {
    const at = this.#clock().toISOString();
    await this.deps.incidents.record(`RESUME_REFUSED#${request.requestId}#${principal.person ?? principal.id}#${at}`, {
      incidentId: request.incidentId,
      at,
      type: 'RESUME_REFUSED',
      actor: principal.id,
      message: `approval of resume ${request.requestId} refused: ${reason}`,
      data: { requestId: request.requestId },
    });
  }
}
