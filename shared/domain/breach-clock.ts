import type { Incident, TimelineEntry } from '../schemas/ledger.ts';

/*
 * GDPR Art. 33(1): notify the supervisory authority "without undue delay and, where feasible, not
 * later than 72 hours after having become aware of it", unless the breach is "unlikely to result in
 * a risk"; Art. 33(4): information may be provided in phases; Art. 33(5): every breach is
 * documented, notified or not. No I/O here: the clock is computed from the incident and its
 * (hash-chained) timeline, so what an operator decided is the ledger's, not a mutable attribute's.
 */

export const ART33_HOURS = 72;
/** When operators are alerted about an incident with no decision: two days, six hours before, and at the deadline. */
export const DEADLINE_MARKS = [48, 66, 72] as const;
export type DeadlineMark = (typeof DEADLINE_MARKS)[number];

/** The timeline types of the authority decisions. */
export const AuthorityEntry = {
  NOTIFIED: 'AUTHORITY_NOTIFIED',
  UPDATE: 'AUTHORITY_UPDATE',
  NOT_NOTIFIABLE: 'NOT_NOTIFIABLE',
  ALERT: 'DEADLINE_ALERT',
} as const;

export interface AuthorityDecision {
  kind: 'NOTIFIED' | 'UPDATE' | 'NOT_NOTIFIABLE';
  /** When it happened (a notification: when the authority was notified), as the operator stated it. */
  at: string;
  /** When it was recorded. */
  recordedAt: string;
  by: string;
  authority?: string;
  reference?: string;
  reason?: string;
}

export interface BreachClock {
  /**
   * When the controller became aware: the incident's opening — the first detection killswitch acted
   * on, or the operator's own pause. Chosen as the earliest moment a regulator could hold the
   * controller aware (killswitch paused collection because data was exposed); an operator cannot
   * move it later, and an incident that turns out not to be a breach is closed by a not-notifiable
   * decision with its reason (Art. 33(5) keeps it documented).
   */
  awareAt: string;
  awareBasis: 'INCIDENT_OPENED';
  dueAt: string;
  /** UNDECIDED until the authority was notified or the breach was documented as not notifiable. */
  status: 'UNDECIDED' | 'NOTIFIED' | 'NOT_NOTIFIABLE';
  /** Milliseconds until the deadline (negative: past it); only while UNDECIDED. */
  remainingMs?: number;
  /** The alert marks (hours after awareness) already passed while UNDECIDED. */
  passedMarks: DeadlineMark[];
  notifiedAt?: string;
  /** Notified after the deadline: Art. 33(1) asks for the reasons for the delay (recorded with it). */
  late?: boolean;
  decisions: AuthorityDecision[];
}

const HOUR = 3_600_000;

export function awareAt(incident: Pick<Incident, 'openedAt'>): string {
  return incident.openedAt;
}

export function dueAt(incident: Pick<Incident, 'openedAt'>): string {
  return new Date(Date.parse(awareAt(incident)) + ART33_HOURS * HOUR).toISOString();
}

export function decisionsOf(timeline: readonly TimelineEntry[]): AuthorityDecision[] {
  const kinds: Record<string, AuthorityDecision['kind']> = {
    [AuthorityEntry.NOTIFIED]: 'NOTIFIED',
    [AuthorityEntry.UPDATE]: 'UPDATE',
    [AuthorityEntry.NOT_NOTIFIABLE]: 'NOT_NOTIFIABLE',
  };
  return timeline
    .filter((t) => kinds[t.type])
    .map((t) => {
      const d = (t.data ?? {}) as Record<string, unknown>;
      const text = (k: string) => (typeof d[k] === 'string' ? { [k]: d[k] as string } : {});
      return {
        kind: kinds[t.type]!,
        at: typeof d.at === 'string' ? d.at : t.at,
        recordedAt: t.at,
        by: t.actor,
        ...text('authority'),
        ...text('reference'),
        ...text('reason'),
      };
    })
    .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
}

/** The incident's Art. 33 clock at `now`. */
export function breachClock(incident: Pick<Incident, 'openedAt'>, timeline: readonly TimelineEntry[], now: Date): BreachClock {
  const aware = awareAt(incident);
  const due = dueAt(incident);
  const decisions = decisionsOf(timeline);
  const notified = decisions.find((d) => d.kind === 'NOTIFIED');
  const status = notified ? 'NOTIFIED' : decisions.some((d) => d.kind === 'NOT_NOTIFIABLE') ? 'NOT_NOTIFIABLE' : 'UNDECIDED';
  const elapsedHours = (now.getTime() - Date.parse(aware)) / HOUR;
  return {
    awareAt: aware,
    awareBasis: 'INCIDENT_OPENED',
    dueAt: due,
    status,
    ...(status === 'UNDECIDED' ? { remainingMs: Date.parse(due) - now.getTime() } : {}),
    passedMarks: status === 'UNDECIDED' ? DEADLINE_MARKS.filter((h) => elapsedHours >= h) : [],
    ...(notified ? { notifiedAt: notified.at, late: Date.parse(notified.at) > Date.parse(due) } : {}),
    decisions,
  };
}

/** "41 h 12 min left", "3 h 5 min overdue": for tables and alerts. */
export function remainingText(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / HOUR);
  const min = Math.floor((abs % HOUR) / 60_000);
  return `${h} h ${min} min ${ms >= 0 ? 'left' : 'overdue'}`;
}
