import type { Principal } from '../schemas/common.ts';
import type { AuthorityCommand } from '../schemas/operator.ts';
import { NotFoundError, StateConflictError, ValidationError, type FieldIssue } from '../domain/errors.ts';
import { requireOperator } from '../domain/identity.ts';
import { AuthorityEntry, breachClock, dueAt, type BreachClock } from '../domain/breach-clock.ts';
import type { Clock, IncidentRecords } from '../killswitch/ports.ts';

export interface AuthorityView {
  action: 'authority';
  incidentId: string;
  decision: AuthorityCommand['decision'];
  /** False when the same decision (same time, same person) was recorded before: a retry. */
  recorded: boolean;
  clock: BreachClock;
}

/** How far ahead of the function's clock a stated time may be (the operator's clock may run ahead). */
const MAX_FUTURE_MS = 5 * 60_000;

/**
 * Use case: record an operator's Art. 33 decision on an incident (docs/record.md). The rules a
 * data-protection officer would expect:
 * - `notified` names the authority and its reference; after the 72 hours it must give the reasons
 *   for the delay (Art. 33(1)); a breach can be notified after a not-notifiable decision (the risk
 *   was reassessed), and that stays in the record;
 * - `update` (Art. 33(4)) follows a notification, and says what it adds;
 * - `not-notifiable` gives the reason the breach is unlikely to result in a risk, and is refused
 *   once the authority was notified (send an update instead).
 * Each decision is a timeline entry, so the hash chain covers it; nothing is overwritten.
 */
export class AuthorityDecisions {
  readonly #clock: Clock;
  constructor(private readonly deps: { incidents: IncidentRecords; clock?: Clock }) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async record(command: AuthorityCommand, principal: Principal): Promise<AuthorityView> {
    requireOperator(principal, 'record an authority decision');
    const now = this.#clock();
    const incident = await this.deps.incidents.get(command.incidentId);
    if (!incident) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    // One spelling of each instant (08:00Z and 10:00+02:00 are one time): the retry key depends on it.
    const at = new Date(command.at ?? now).toISOString();
    const issues: FieldIssue[] = [];
    if (Date.parse(at) > now.getTime() + MAX_FUTURE_MS) issues.push({ path: 'at', message: 'is in the future' });
    if (Date.parse(at) < Date.parse(incident.openedAt))
      issues.push({ path: 'at', message: `is before the incident opened (${incident.openedAt})` });
    const due = Date.parse(dueAt(incident));
    const late = Date.parse(at) > due;
    // A notification stated as within the 72 hours but recorded after them: say why it is recorded late.
    const recordedLate = !late && now.getTime() > due;
    if (command.decision === 'notified') {
      if (recordedLate && !command.reason)
        issues.push({
          path: 'reason',
          message: 'is required: the 72 hours have passed, and this notification is dated within them: say why it is recorded only now',
        });
      if (!command.authority) issues.push({ path: 'authority', message: 'is required: which supervisory authority was notified' });
      if (!command.reference) issues.push({ path: 'reference', message: "is required: the authority's reference for the notification" });
      if (late && !command.reason)
        issues.push({
          path: 'reason',
          message: 'is required: the notification is after the 72 hours, and Art. 33(1) asks for the reasons for the delay',
        });
    }
    if (command.decision === 'update' && !command.reason)
      issues.push({ path: 'reason', message: 'is required: what this update tells the authority' });
    if (command.decision === 'not-notifiable' && !command.reason)
      issues.push({
        path: 'reason',
        message: 'is required: why the breach is unlikely to result in a risk (Art. 33(1), documented under Art. 33(5))',
      });
    if (issues.length) throw new ValidationError(`${command.decision} decision`, issues);

    const before = breachClock(incident, await this.deps.incidents.timeline(incident.incidentId), now);
    if (command.decision === 'update' && before.status !== 'NOTIFIED')
      throw new StateConflictError(`incident ${incident.incidentId}: no notification to update — record it first (decision notified)`);
    if (command.decision === 'not-notifiable' && before.status === 'NOTIFIED')
      throw new StateConflictError(
        `incident ${incident.incidentId}: the authority was notified on ${before.notifiedAt}; send an update instead`,
      );

    const type = {
      notified: AuthorityEntry.NOTIFIED,
      update: AuthorityEntry.UPDATE,
      'not-notifiable': AuthorityEntry.NOT_NOTIFIABLE,
    }[command.decision];
    // An update names the notification's reference unless it gives a new one.
    const reference = command.reference ?? before.decisions.find((d) => d.reference)?.reference;
    // Keyed by the decision and its instant: a retry (same instant, however written) keeps one entry.
    const recorded = await this.deps.incidents.record(`AUTHORITY#${command.decision}#${at}`, {
      incidentId: incident.incidentId,
      at: now.toISOString(),
      type,
      actor: principal.id,
      message:
        command.decision === 'notified'
          ? `supervisory authority ${command.authority} notified (reference ${command.reference})${late ? ', after the 72 hours' : ''}`
          : command.decision === 'update'
            ? `update sent to the supervisory authority${reference ? ` (reference ${reference})` : ''}`
            : 'documented as not notifiable: unlikely to result in a risk to the data subjects',
      data: {
        at,
        ...(command.authority ? { authority: command.authority } : {}),
        ...(command.reference ? { reference: command.reference } : {}),
        ...(command.reason ? { reason: command.reason } : {}),
        ...(principal.person ? { person: principal.person } : {}),
        ...(command.decision === 'notified' ? { late, ...(recordedLate ? { recordedLate } : {}) } : {}),
      },
    });
    const clock = breachClock(incident, await this.deps.incidents.timeline(incident.incidentId), now);
    return { action: 'authority', incidentId: incident.incidentId, decision: command.decision, recorded, clock };
  }
}
