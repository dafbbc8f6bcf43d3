import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseFindingEvent } from '#shared/findings/normalise.ts';
import type { FindingOutcome } from '#shared/findings/intake.ts';
import { findingServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';

const { logger, metrics } = observability('finding-trigger');
const { intake, rejections } = findingServices();

/**
 * EventBridge target (default bus) for Macie, GuardDuty and Security Hub findings.
 *
 * Each finding is parsed on its own: a malformed one is alerted and kept in the rejected-findings
 * queue, never pausing anything and never stopping the others; one that maps to no program is
 * recorded and counted. The rest become anomalies for the trigger. If any finding failed for
 * another reason the invocation fails, so Lambda retries the event (the handled ones are
 * deduplicated by their anomaly ids) and, after its retries, keeps it in the function's DLQ.
 */
export const handler = async (event: unknown): Promise<{ findings: number; outcomes: string[] }> => {
  const eventId = typeof event === 'object' && event !== null ? String((event as { id?: unknown }).id ?? '') : '';
  const outcomes: string[] = [];
  const failures: unknown[] = [];
  try {
    for (const parsed of parseFindingEvent(event)) {
      if (!parsed.ok) {
        metrics.addMetric('FindingRejected', MetricUnit.Count, 1);
        logger.warn('malformed finding rejected', { eventId, source: parsed.source, findingId: parsed.findingId, issues: parsed.error.issues });
        await rejections.reject(parsed, 'event', eventId);
        outcomes.push('REJECTED');
        continue;
      }
      const { finding } = parsed;
      try {
        const result = await intake.handle(finding);
        outcomes.push(record(result));
        logger.info('finding handled', { eventId, source: finding.source, findingId: finding.findingId, type: finding.type, severity: finding.severity, ...summary(result) });
      } catch (error) {
        failures.push(error);
        metrics.addMetric('FindingFailed', MetricUnit.Count, 1);
        logger.error('finding not handled; the event will be retried', { eventId, source: finding.source, findingId: finding.findingId, ...describeError(error) });
      }
    }
    if (failures.length) throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} findings of event ${eventId} failed`);
    return { findings: outcomes.length, outcomes };
  } finally {
    metrics.publishStoredMetrics();
  }
};

function record(result: FindingOutcome): string {
  if (result.outcome === 'IGNORED') {
    metrics.addMetric(result.reason === 'UNMAPPED' ? 'FindingUnmapped' : 'FindingIgnored', MetricUnit.Count, 1);
    return `IGNORED:${result.reason}`;
  }
  metrics.addMetric('FindingHandled', MetricUnit.Count, 1);
  for (const a of result.anomalies) if (a.outcome === 'PAUSED' && 'stateChanged' in a && a.stateChanged) metrics.addMetric('KillSwitchEngaged', MetricUnit.Count, 1);
  return `HANDLED:${result.anomalies.map((a) => `${a.programId}=${a.outcome}`).join(',')}`;
}

const summary = (result: FindingOutcome) =>
  result.outcome === 'IGNORED'
    ? { outcome: result.outcome, reason: result.reason }
    : { outcome: result.outcome, anomalies: result.anomalies.map((a) => ({ programId: a.programId, anomalyId: a.anomalyId, outcome: a.outcome, ...('incidentId' in a ? { incidentId: a.incidentId } : {}) })) };
