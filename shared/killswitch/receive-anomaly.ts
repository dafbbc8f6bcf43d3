import type { AnomalyWork } from './anomaly-event.ts';
import type { Telemetry } from './ports.ts';
import type { AnomalyTrigger, TriggerOutcome } from './trigger.ts';

/**
 * Use case: act on one `Anomaly Detected` event from the intake queue (already parsed).
 * 1. Count it, and whether its input had to be cleaned (every count by severity).
 * 2. Hand it to the trigger, which decides and pauses.
 * 3. Count a pause it caused; on a failure, count it and let it propagate (SQS delivers it again).
 */
export async function receiveAnomaly(
  { eventId, anomaly, issues }: AnomalyWork,
  deps: { trigger: Pick<AnomalyTrigger, 'handle'>; telemetry: Telemetry },
): Promise<TriggerOutcome & { eventId: string; programId: string; anomalyId: string; severity: string; inputIssues: number }> {
  const { telemetry } = deps;
  // Every count of this anomaly carries its severity (the dashboard graphs pauses by severity).
  const bySeverity = { severity: anomaly.severity };
  telemetry.count('AnomalyReceived', 1, bySeverity);
  if (issues.length) telemetry.count('AnomalyInputCleaned', 1, bySeverity);
  try {
    const result = await deps.trigger.handle(anomaly, issues);
    if ('stateChanged' in result && result.stateChanged) telemetry.count('KillSwitchEngaged', 1, bySeverity);
    return {
      eventId,
      ...result,
      programId: anomaly.programId,
      anomalyId: anomaly.anomalyId,
      severity: anomaly.severity,
      inputIssues: issues.length,
    };
  } catch (error) {
    telemetry.count('AnomalyFailed', 1, bySeverity);
    throw error;
  }
}
