import type { Principal } from '../schemas/common.ts';
import type { GrantWork } from '../schemas/grants.ts';
import type { PlanWork } from '../schemas/notices.ts';
import type { OperatorAction, OperatorCommand } from '../schemas/operator.ts';
import { StateConflictError } from '../domain/errors.ts';
import { OperatorPause, type OperatorPauseDeps } from './operator-pause.ts';
import { ResumeProgram, type ResumeDeps } from './resume.ts';
import { RestoreRequests } from './restore-requests.ts';
import { NotifyIncident, type NoticeCountsView } from './notify.ts';
import { KillSwitchViews } from './views.ts';
import type { ApprovalRecords, WorkQueue } from './ports.ts';
import type { NoticeSettings } from '../schemas/notices.ts';
import type { NoticeRecords } from '../notices/ports.ts';
import { EmployeeNotices } from '../notices/notice-record.ts';
import { VerifyLedger } from '../record/verify.ts';
import { AuthorityDecisions } from '../record/authority.ts';
import { BreachRegister } from '../record/register.ts';
import { IncidentReport } from '../record/report.ts';
import type { LedgerChains } from '../record/ports.ts';

export type { PauseView, DryRunView } from './operator-pause.ts';
export type { ResumeRequestView } from './resume.ts';
export type { RestoreRequestView } from './restore-requests.ts';
export type { NotifyView } from './notify.ts';
export type { NoticeRecordView } from '../notices/notice-record.ts';
export type { IntegrityView } from '../record/verify.ts';
export type { AuthorityView } from '../record/authority.ts';
export type { RegisterView, RegisterEntry } from '../record/register.ts';
export type { ReportView } from '../record/report.ts';
export type { StatusView, IncidentView, IncidentListView, RequestListView, RequestSummary } from './views.ts';

export interface OperatorDeps extends OperatorPauseDeps, ResumeDeps {
  approvals: ApprovalRecords;
  /** Grant restore: where approved restores are queued, and the revocation counts. */
  grantWork?: WorkQueue<GrantWork>;
  revocations?: { counts(incidentId: string): Promise<{ revoked: number; alsoHeld: number }> };
  /** Notices: where planning work is queued, and the delivery ledger's counts. */
  noticeWork?: WorkQueue<PlanWork>;
  notices?: { counts(incidentId: string, type?: 'exposure'): Promise<NoticeCountsView> } & Partial<Pick<NoticeRecords, 'get'>>;
  /** The notice settings the senders render with: an employee's notice is shown again with them. */
  noticeSettings?: NoticeSettings;
  /** The ledger's hash chains: `verify` recomputes them. */
  chains?: LedgerChains;
}

/** What a use case's method answers. */
type Answer<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;
/** A map with an entry for every action of `OperatorCommandSchema`, and for nothing else. */
type EveryAction<T extends { [A in OperatorAction]: unknown } & { [K in Exclude<keyof T, OperatorAction>]: never }> = T;

/**
 * What each action answers: what the use case `execute` routes it to returns (PauseView | DryRunView,
 * StatusView, …). The operator function's envelope (functions/operator/envelope.ts) and the CLI are
 * typed from it.
 */
export type OperatorResults = EveryAction<{
  pause: Answer<OperatorPause['pause']>;
  status: Answer<KillSwitchViews['status']>;
  'request-resume': Answer<ResumeProgram['request']>;
  'approve-resume': Answer<ResumeProgram['approve']>;
  incident: Answer<KillSwitchViews['incident']>;
  'list-incidents': Answer<KillSwitchViews['list']>;
  'list-requests': Answer<KillSwitchViews['requests']>;
  'restore-grants': Answer<RestoreRequests['request']>;
  'approve-restore-grants': Answer<RestoreRequests['approve']>;
  notify: Answer<NotifyIncident['notify']>;
  'resend-failed': Answer<NotifyIncident['notify']>;
  notice: Answer<EmployeeNotices['show']>;
  verify: Answer<VerifyLedger['incident']>;
  authority: Answer<AuthorityDecisions['record']>;
  register: Answer<BreachRegister['export']>;
  report: Answer<IncidentReport['build']>;
}>;
/** What one action answers; what any action answers when none is named. */
export type OperatorResult<A extends OperatorAction = OperatorAction> = OperatorResults[A];

/**
 * The operator's actions, one capability each (pause, resume, grant restore requests, notices,
 * read views), behind the one entry point the operator function and the CLI use. This class only
 * routes: every rule lives in the capability's use case.
 */
export class OperatorActions {
  readonly pauses: OperatorPause;
  readonly resumes: ResumeProgram;
  readonly views: KillSwitchViews;
  readonly restores?: RestoreRequests;
  readonly notices?: NotifyIncident;
  readonly employeeNotices?: EmployeeNotices;
  readonly integrity?: VerifyLedger;
  readonly authority: AuthorityDecisions;
  readonly register: BreachRegister;
  readonly report: IncidentReport;

  constructor(deps: OperatorDeps) {
    this.pauses = new OperatorPause(deps);
    this.resumes = new ResumeProgram(deps);
    this.views = new KillSwitchViews(deps);
    this.authority = new AuthorityDecisions(deps);
    this.register = new BreachRegister(deps);
    if (deps.grantWork) this.restores = new RestoreRequests({ ...deps, grantWork: deps.grantWork });
    if (deps.noticeWork && deps.notices) this.notices = new NotifyIncident({ ...deps, noticeWork: deps.noticeWork, notices: deps.notices });
    const get = deps.notices?.get?.bind(deps.notices);
    if (get && deps.noticeSettings)
      this.employeeNotices = new EmployeeNotices({ notices: { get }, incidents: deps.incidents, settings: deps.noticeSettings });
    if (deps.chains)
      this.integrity = new VerifyLedger({ incidents: deps.incidents, chains: deps.chains, clock: deps.clock ?? (() => new Date()) });
    this.report = new IncidentReport({ ...deps, views: this.views, ...(this.integrity ? { integrity: this.integrity } : {}) });
  }

  execute(command: OperatorCommand, principal: Principal): Promise<OperatorResult> {
    switch (command.action) {
      case 'pause':
        return this.pauses.pause(command, principal);
      case 'status':
        return this.views.status(command.programId);
      case 'request-resume':
        return this.resumes.request(command, principal);
      case 'approve-resume':
        return this.resumes.approve(command, principal);
      case 'incident':
        return this.views.incident(command.incidentId);
      case 'list-incidents':
        return this.views.list(command);
      case 'list-requests':
        return this.views.requests(command);
      case 'restore-grants':
        return this.#restores().request(command, principal);
      case 'approve-restore-grants':
        return this.#restores().approve(command, principal);
      case 'notify':
      case 'resend-failed':
        return this.#notices().notify(command, principal);
      case 'notice':
        if (!this.employeeNotices) throw new StateConflictError("employees' notices are not available in this function");
        return this.employeeNotices.show(command, principal);
      case 'verify':
        if (!this.integrity) throw new StateConflictError("the ledger's chains are not available in this function");
        return this.integrity.incident(command.incidentId);
      case 'authority':
        return this.authority.record(command, principal);
      case 'register':
        return this.register.export(command, principal);
      case 'report':
        return this.report.build(command.incidentId, principal);
    }
  }

  #restores(): RestoreRequests {
    if (!this.restores) throw new StateConflictError('grant restore is not available in this function');
    return this.restores;
  }

  #notices(): NotifyIncident {
    if (!this.notices) throw new StateConflictError('notices are not available in this function');
    return this.notices;
  }
}
