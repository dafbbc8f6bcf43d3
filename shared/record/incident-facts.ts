import type { Incident, TimelineEntry } from '../schemas/ledger.ts';

/** The timeline entry that holds an incident's unchanging facts: its key, and its type. */
export const INCIDENT_FACTS_KEY = 'FACTS';
export const INCIDENT_FACTS_TYPE = 'INCIDENT_FACTS';

/** The facts of an incident that never change after it opened: what its chained first entry keeps. */
export function incidentFacts(i: Incident): Record<string, string> {
  return {
    incidentId: i.incidentId,
    programId: i.programId,
    scope: i.scope,
    openedAt: i.openedAt,
    openedBy: i.openedBy,
    trigger: i.trigger,
  };
}

/**
 * Whether the incident record still says what its chained facts entry says: the record is not in
 * the chain (escalations and the resolution change it), so an edit of its unchanging fields — the
 * opening time that starts the Art. 33 clock, the scope whose audit trail verify reads — shows here.
 * The fields that differ; `undefined` when the timeline has no facts entry (opened before they were kept).
 */
export function factsDiffer(incident: Incident, timeline: readonly TimelineEntry[]): string[] | undefined {
  const entry = timeline.find((t) => t.type === INCIDENT_FACTS_TYPE);
  if (!entry) return undefined;
  const kept = (entry.data ?? {}) as Record<string, unknown>;
  return Object.entries(incidentFacts(incident))
    .filter(([k, v]) => kept[k] !== v)
    .map(([k]) => k);
}
