import type { NoticeEntry, NoticeSettings, NoticeType } from '../schemas/notices.ts';
import type { IncidentRecords } from '../killswitch/ports.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { NoticeRecords } from './ports.ts';
import { asciiSubject, renderNotice, templateById, type NoticeContext } from './render.ts';
import type { Principal } from '../schemas/common.ts';
import { requireOperator } from '../domain/identity.ts';
import { contextOf, factsOf, incidentContext, textHash } from './sender.ts';

/**
 * How the text shown relates to what was sent:
 * - EXACT: rendered from the template and the facts (settings included) kept when it was sent, and
 *   its hash is the one kept: this is the text the employee was sent, to the character;
 * - DIFFERS: rendered the same way, but the hash differs (the template or the runtime's date
 *   formatting changed since, or the entry was edited): shown, and said not to be the one sent;
 * - NOT_KEPT: sent before notices kept their facts: rendered from the incident as it is now;
 * - UNCONFIRMED: being sent, or its sender died after handing it to SNS and before recording it:
 *   it may have been delivered; what it would say now;
 * - NOT_SENT: not sent (yet, or FAILED): what would be sent now.
 */
export type Reproduction = 'EXACT' | 'DIFFERS' | 'NOT_KEPT' | 'UNCONFIRMED' | 'NOT_SENT';

export interface NoticeRecordView {
  action: 'notice';
  /** The ledger entry: status, times, attempts, the message id, the categories it names. */
  entry: NoticeEntry;
  templateId: string;
  /** As SNS sent it (printable ASCII, at most 99 characters). */
  subject: string;
  text: string;
  reproduced: Reproduction;
}

/**
 * One employee's notice, as they would ask for it (GDPR Art. 15): the delivery entry, and the
 * text that was sent, rebuilt from the template version and the facts kept with the entry, checked
 * against the hash kept with it. Reads only.
 */
export class EmployeeNotices {
  constructor(
    private readonly deps: {
      notices: Pick<NoticeRecords, 'get'>;
      incidents: Pick<IncidentRecords, 'get' | 'timeline' | 'record'>;
      settings: NoticeSettings;
      clock?: () => Date;
    },
  ) {}

  /**
   * Who looked at whose notice is recorded in the incident's timeline before anything is answered
   * (even "not affected": the answer itself says whether the employee was).
   */
  async show(command: { incidentId: string; employeeId: string; noticeType: NoticeType }, principal: Principal): Promise<NoticeRecordView> {
    requireOperator(principal, "read an employee's notice");
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    const at = (this.deps.clock ?? (() => new Date()))().toISOString();
    const who = principal.person ?? principal.id;
    await this.deps.incidents.record(`NOTICE_SHOWN#${command.noticeType}#${command.employeeId}#${who}#${at}`, {
      incidentId: command.incidentId,
      at,
      type: 'NOTICE_SHOWN',
      actor: principal.id,
      message: `the ${command.noticeType} notice of employee ${command.employeeId} was shown to ${who}`,
      data: { employeeId: command.employeeId, noticeType: command.noticeType, person: who },
    });
    const entry = await this.deps.notices.get(command.incidentId, command.noticeType, command.employeeId);
    if (!entry)
      throw new NotFoundError(
        `no ${command.noticeType} notice for employee ${command.employeeId} in incident ${command.incidentId} (not affected, or not notified)`,
      );
    const employee = { employeeId: entry.employeeId, categories: entry.categories, heldFrom: entry.heldFrom, heldTo: entry.heldTo };
    const settings = this.deps.settings;
    if (entry.status === 'SENT' && entry.sent) {
      const template = templateById(entry.sent.templateId);
      if (!template)
        throw new NotFoundError(
          `template ${entry.sent.templateId}, which rendered this notice, is no longer in this version of killswitch`,
        );
      const context: NoticeContext = {
        ...contextOf(entry.incidentId, entry.sent.facts),
        employee,
        settings: entry.sent.facts.settings ?? settings,
      };
      const notice = renderNotice(entry.noticeType, context, entry.locale, template);
      return view(entry, notice, textHash(notice.text) === entry.sent.textSha256 ? 'EXACT' : 'DIFFERS');
    }
    const timeline = await this.deps.incidents.timeline(entry.incidentId);
    const now = incidentContext(incident, timeline);
    const notice = renderNotice(entry.noticeType, { ...contextOf(entry.incidentId, factsOf(now)), employee, settings }, entry.locale);
    return view(entry, notice, entry.status === 'SENT' ? 'NOT_KEPT' : entry.status === 'SENDING' ? 'UNCONFIRMED' : 'NOT_SENT');
  }
}

const view = (
  entry: NoticeEntry,
  notice: { templateId: string; subject: string; text: string },
  reproduced: Reproduction,
): NoticeRecordView => ({
  action: 'notice',
  entry,
  templateId: notice.templateId,
  subject: asciiSubject(notice.subject),
  text: notice.text,
  reproduced,
});
