import type { Principal } from '../schemas/common.ts';
import type { PlanWork } from '../schemas/notices.ts';
import type { NotifyCommand, ResendFailedCommand } from '../schemas/operator.ts';
import { NotFoundError, StateConflictError } from '../domain/errors.ts';
import { requireOperator } from '../domain/identity.ts';
import type { Clock, IncidentRecords, WorkQueue } from './ports.ts';

export interface NoticeCountsView {
  planned: number;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
}

export interface NotifyDeps {
  incidents: IncidentRecords;
  noticeWork: WorkQueue<PlanWork>;
  notices: { counts(incidentId: string): Promise<NoticeCountsView> };
  clock?: Clock;
}

export interface NotifyView {
  action: 'notify' | 'resend-failed';
  incidentId: string;
  queued: true;
  notices: NoticeCountsView;
}

/**
 * Use case: tell an incident's affected employees (`notify`), or try again the notices that failed
 * or whose sender died (`resend-failed`). Planning is queued and re-reads the incident, so what is
 * notified is what the ledger says the incident concerns; planning twice notifies nobody twice.
 */
export class NotifyIncident {
  readonly #clock: Clock;
  constructor(private readonly deps: NotifyDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async notify(command: NotifyCommand | ResendFailedCommand, principal: Principal): Promise<NotifyView> {
    requireOperator(principal, `run ${command.action}`);
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    if (command.action === 'notify' && command.noticeType !== 'exposure') {
      // A follow-up follows something: the exposure notice it updates, the resolution it reports.
      const timeline = await this.deps.incidents.timeline(incident.incidentId);
      const exposed = timeline.some((t) => t.type === 'NOTICES_PLANNED' && (t.data?.noticeType ?? 'exposure') === 'exposure');
      if (!exposed)
        throw new StateConflictError(`incident ${incident.incidentId}: no exposure notice was sent yet; send it first (killswitch notify)`);
      const sentBefore = timeline.find((t) => t.type === 'NOTICES_PLANNED' && t.data?.noticeType === command.noticeType);
      if (sentBefore)
        throw new StateConflictError(
          `incident ${incident.incidentId}: the ${command.noticeType} notice was planned on ${sentBefore.at} and goes to each employee once; resend-failed sends the ones that failed`,
        );
      if (command.noticeType === 'resolved' && incident.status !== 'RESOLVED')
        throw new StateConflictError(
          `incident ${incident.incidentId} is ${incident.status}: the resolved notice goes out once a resume has closed it`,
        );
    }
    await this.deps.noticeWork.enqueue({
      type: 'plan',
      incidentId: incident.incidentId,
      programId: incident.programId,
      noticeType: command.noticeType,
      mode: command.action === 'notify' ? 'all' : 'failed',
      requestedBy: principal.id,
      continuation: 0,
      planned: 0,
    });
    const at = this.#clock().toISOString();
    await this.deps.incidents.record(`${command.action.toUpperCase()}#${principal.person}#${at}`, {
      incidentId: incident.incidentId,
      at,
      type: command.action === 'notify' ? 'NOTIFY_REQUESTED' : 'RESEND_REQUESTED',
      actor: principal.id,
      message:
        command.action === 'notify'
          ? `${command.noticeType} notices requested by ${principal.person}`
          : `failed and stalled ${command.noticeType} notices queued again by ${principal.person}`,
      data: { noticeType: command.noticeType },
    });
    return {
      action: command.action,
      incidentId: incident.incidentId,
      queued: true,
      notices: await this.deps.notices.counts(incident.incidentId),
    };
  }
}
