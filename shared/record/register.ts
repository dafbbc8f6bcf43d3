import type { Incident, TimelineEntry } from '../schemas/ledger.ts';
import type { Principal } from '../schemas/common.ts';
import { requireOperator } from '../domain/identity.ts';
import { UnknownProgramError } from '../domain/errors.ts';
import { breachClock, type AuthorityDecision, type BreachClock } from '../domain/breach-clock.ts';
import type { Clock, IncidentRecords, Programs } from '../killswitch/ports.ts';
import type { NoticeCountsView } from '../killswitch/notify.ts';

/** The most incidents one export reads (a register is exported per period; use --since and --until to page). */
export const REGISTER_LIMIT = 1000;

/**
 * One breach as GDPR Art. 33(5) asks the controller to document it — "the facts relating to the
 * personal data breach, its effects and the remedial action taken" — whether it was notified or
 * not: what happened, which data of how many people, the likely consequences, what was done and
 * when, and what was decided about the authority (with the reasons).
 */
export interface RegisterEntry {
  incidentId: string;
  programId: string;
  scope: string;
  status: Incident['status'];
  severity: Incident['severity'];
  openedAt: string;
  detectedBy: { trigger: Incident['trigger']; by: string; detector?: string; kind?: string };
  /** The facts as reported: the detector's kind and summary (ids and words, never the exposed data). */
  facts: string;
  exposure?: { audience: string; window: { start: string; end: string }; principals: number };
  datasets: string[];
  /** Categories of data of the employees the notices were planned for. */
  categories: string[];
  /** Approximate number of data subjects: the employees planned for notices (every affected one, once). */
  dataSubjects: number;
  likelyConsequences: string;
  measures: {
    pausedAt?: string;
    haltConfirmedAt?: string;
    grantsRevoked: number;
    grantsRevokedAt?: string;
    grantsRestored: number;
    noticesPlanned: number;
    noticesSent: number;
    noticesFailed: number;
    noticesFirstPlannedAt?: string;
    resumedAt?: string;
    resolvedAt?: string;
  };
  authority: Pick<BreachClock, 'awareAt' | 'dueAt' | 'status' | 'notifiedAt' | 'late'> & {
    authority?: string;
    reference?: string;
    updates: number;
    /** The documented reason of a not-notifiable decision, or of a late notification. */
    reason?: string;
  };
  decisions: AuthorityDecision[];
}

export interface RegisterView {
  action: 'register';
  since: string;
  until: string;
  generatedAt: string;
  entries: RegisterEntry[];
  /** True when more incidents than one export holds were opened in the period. */
  truncated: boolean;
}

export interface RegisterDeps {
  /** The most incidents one export holds (default REGISTER_LIMIT). */
  limit?: number;
  programs: Programs;
  incidents: IncidentRecords;
  notices?: { counts(incidentId: string, type?: 'exposure'): Promise<NoticeCountsView> };
  clock?: Clock;
}

/**
 * Use case: the breach register (Art. 33(5)): every incident opened in a period, of every program
 * (or one), notified or not, from the ledger — the incident, its hash-chained timeline and the
 * delivery ledger's counts. Read-only.
 */
export class BreachRegister {
  readonly #clock: Clock;
  constructor(private readonly deps: RegisterDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async export(command: { since?: string; until?: string; programId?: string }, principal: Principal): Promise<RegisterView> {
    requireOperator(principal, 'export the breach register');
    const now = this.#clock();
    const since = command.since ?? new Date(0).toISOString();
    const until = command.until ?? now.toISOString();
    if (command.programId && !this.deps.programs.find(command.programId)) throw new UnknownProgramError(command.programId);
    const programs = command.programId ? [command.programId] : this.deps.programs.all().map((p) => p.programId);
    const incidents: Incident[] = [];
    // Oldest first within [since, until] from the index itself: a period is exported from its start,
    // and a longer one is cut at its end, said by `truncated` (an attacker's review found the newest
    // 1,000 of `since`, filtered by `until` afterwards, could leave a whole period out).
    const limit = this.deps.limit ?? REGISTER_LIMIT;
    for (const programId of programs) incidents.push(...(await this.deps.incidents.listOpened(programId, since, until, limit + 1)));
    const inPeriod = incidents.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
    const entries = await Promise.all(
      inPeriod.slice(0, limit).map(async (incident) => {
        const [timeline, notices] = await Promise.all([
          this.deps.incidents.timeline(incident.incidentId),
          this.deps.notices?.counts(incident.incidentId, 'exposure'),
        ]);
        return registerEntry(incident, timeline, notices, now);
      }),
    );
    return { action: 'register', since, until, generatedAt: now.toISOString(), entries, truncated: inPeriod.length > limit };
  }
}

const first = (timeline: readonly TimelineEntry[], test: (t: TimelineEntry) => boolean) => timeline.find(test)?.at;
const sum = (timeline: readonly TimelineEntry[], type: string, field: string) =>
  timeline.filter((t) => t.type === type).reduce((n, t) => n + (typeof t.data?.[field] === 'number' ? (t.data[field] as number) : 0), 0);

/** One incident's register entry, from its record and its timeline. */
export function registerEntry(
  incident: Incident,
  timeline: readonly TimelineEntry[],
  notices: NoticeCountsView | undefined,
  now: Date,
): RegisterEntry {
  const clock = breachClock(incident, timeline, now);
  const planned = timeline.filter((t) => t.type === 'NOTICES_PLANNED' && (t.data?.noticeType ?? 'exposure') === 'exposure');
  const categories = [
    ...new Set(planned.flatMap((t) => (Array.isArray(t.data?.categories) ? (t.data.categories as string[]) : []))),
  ].sort();
  // The exposure notices' entries in the delivery ledger: every affected employee once, escalations
  // and redelivered plannings included (the timeline's counts are per planning run).
  const dataSubjects = notices?.planned ?? planned.reduce((n, t) => n + Number(t.data?.planned ?? 0), 0);
  const notified = clock.decisions.find((d) => d.kind === 'NOTIFIED');
  const notNotifiable = clock.decisions.filter((d) => d.kind === 'NOT_NOTIFIABLE').at(-1);
  const paused = (t: TimelineEntry) => t.type === 'STATE_CHANGED' && t.data?.status === 'PAUSED';
  const resumed = (t: TimelineEntry) => t.type === 'STATE_CHANGED' && t.data?.status === 'ACTIVE';
  const what = categories.length ? categories.join(', ') : `the data of ${incident.datasetIds.join(', ')}`;
  return {
    incidentId: incident.incidentId,
    programId: incident.programId,
    scope: incident.scope,
    status: incident.status,
    severity: incident.severity,
    openedAt: incident.openedAt,
    detectedBy: {
      trigger: incident.trigger,
      by: incident.openedByPerson ?? incident.openedBy,
      ...(incident.detector ? { detector: incident.detector } : {}),
      ...(incident.kind ? { kind: incident.kind } : {}),
    },
    facts:
      [incident.kind, incident.summary].filter(Boolean).join(': ') || `${incident.trigger.toLowerCase()} pause of ${incident.programId}`,
    ...(incident.exposure
      ? {
          exposure: {
            audience: incident.exposure.audience,
            window: incident.exposure.window,
            principals: incident.exposure.principals.length,
          },
        }
      : {}),
    datasets: incident.datasetIds,
    categories,
    dataSubjects,
    likelyConsequences:
      `Loss of confidentiality: ${what} of ${dataSubjects} employee(s) ` +
      (incident.exposure
        ? `could be read by ${incident.exposure.audience} between ${incident.exposure.window.start} and ${incident.exposure.window.end}`
        : 'could be read by people outside the intended audience') +
      '; a risk of embarrassment, pressure or discrimination at work if read by colleagues or managers.',
    measures: {
      ...opt('pausedAt', first(timeline, paused)),
      ...opt(
        'haltConfirmedAt',
        first(timeline, (t) => t.type === 'HALT_CONFIRMED'),
      ),
      grantsRevoked: sum(timeline, 'GRANTS_REVOKED', 'revoked'),
      ...opt(
        'grantsRevokedAt',
        first(timeline, (t) => t.type === 'GRANTS_REVOKED'),
      ),
      grantsRestored: sum(timeline, 'GRANTS_RESTORED', 'restored'),
      noticesPlanned: notices?.planned ?? dataSubjects,
      noticesSent: notices?.sent ?? 0,
      noticesFailed: notices?.failed ?? 0,
      ...opt('noticesFirstPlannedAt', planned[0]?.at),
      ...opt('resumedAt', first(timeline, resumed)),
      ...opt('resolvedAt', incident.resolvedAt),
    },
    authority: {
      awareAt: clock.awareAt,
      dueAt: clock.dueAt,
      status: clock.status,
      ...opt('notifiedAt', clock.notifiedAt),
      ...(clock.late !== undefined ? { late: clock.late } : {}),
      ...opt('authority', notified?.authority),
      ...opt('reference', notified?.reference),
      updates: clock.decisions.filter((d) => d.kind === 'UPDATE').length,
      ...opt('reason', clock.status === 'NOT_NOTIFIABLE' ? notNotifiable?.reason : notified?.reason),
    },
    decisions: clock.decisions,
  };
}

const opt = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
