import { normaliseAnomaly, type AnomalyDetail } from '../schemas/anomaly.ts';
import { parseJson, ValidationError } from '../domain/errors.ts';
import type { Programs } from './ports.ts';

/** An `Anomaly Detected` event as the trigger acts on it. */
export interface AnomalyWork {
  eventId: string;
  anomaly: AnomalyDetail;
  /** Fields that were cleaned or replaced (kept in the incident). */
  issues: string[];
}

/**
 * Parse an `Anomaly Detected` event as the intake queue delivers it (the EventBridge event, JSON).
 * The minimal fields (anomaly id, program, severity) are checked strictly: an event that fails them,
 * or names a program that is not deployed, can never pause anything (a ValidationError naming the
 * field: the worker keeps it in the DLQ at once). Everything else is cleaned, never a reason not to pause.
 */
export function parseAnomalyEvent(body: string, programs: Programs, now: Date): AnomalyWork {
  const event = parseJson(body, 'Anomaly Detected event') as { id?: unknown; detail?: unknown };
  if (typeof event !== 'object' || event === null || typeof event.detail !== 'object' || event.detail === null) {
    throw new ValidationError('Anomaly Detected event', [
      { path: 'detail', message: 'must be an object (the event as EventBridge delivers it)' },
    ]);
  }
  const { anomaly, issues } = normaliseAnomaly(event.detail, now);
  if (!programs.find(anomaly.programId)) {
    throw new ValidationError('Anomaly Detected event', [
      { path: 'detail.programId', message: `unknown program "${anomaly.programId}": it is not in the deployed configuration` },
    ]);
  }
  return { eventId: typeof event.id === 'string' ? event.id.slice(0, 128) : '', anomaly, issues };
}
