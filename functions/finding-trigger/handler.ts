import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseFindingEvent } from '#shared/findings/normalise.ts';
import type { FindingOutcome } from '#shared/findings/intake.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import { findingServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const { logger, metrics } = observability('finding-trigger');
const { intake, rejections, deadLetters } = findingServices();

/**
 * Macie, GuardDuty and Security Hub finding events from the intake queue (default bus → SQS → here).
 *
 * Each finding is parsed on its own: a malformed one is alerted and kept in the rejected-findings
 * queue, never pausing anything and never stopping the others; one that maps to no program is
 * recorded and counted. The rest become anomalies for the trigger. If any finding failed for
 * another reason the message fails, so SQS delivers it again (the handled findings are deduplicated
 * by their anomaly ids) until its redrive keeps it in the DLQ.
 */
export const handler = sqsWorker({
  name: 'finding-trigger',
  logger,
  parse: (body: string): unknown => {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new ValidationError('finding event', [{ path: '(root)', message: 'must be JSON' }]);
    }
  },
  deadLetters,
  budgetMs: Number.MAX_SAFE_INTEGER,
  perform: async (event) => {
    const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
    const eventId = typeof id === 'string' ? id.slice(0, 128) : '';
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
      return { eventId, findings: outcomes.length, outcomes };
    } finally {
      metrics.publishStoredMetrics();
    }
  },
});

function record(result: FindingOutcome): string {
  if (result.outcome === 'IGNORED') {
    metrics.addMetric(result.reason === 'UNMAPPED' ? 'FindingUnmapped' : 'FindingIgnored', MetricUnit.Count, 1);
    return `IGNORED:${result.reason}`;
  }
  metrics.addMetric('FindingHandled', MetricUnit.Count, 1);
  for (const a of result.anomalies) if ('stateChanged' in a && a.stateChanged) metrics.addMetric('KillSwitchEngaged', MetricUnit.Count, 1);
  return `HANDLED:${result.anomalies.map((a) => `${a.programId}=${a.outcome}`).join(',')}`;
}

const summary = (result: FindingOutcome) =>
  result.outcome === 'IGNORED'
    ? { outcome: result.outcome, reason: result.reason }
    : { outcome: result.outcome, anomalies: result.anomalies.map((a) => ({ programId: a.programId, anomalyId: a.anomalyId, outcome: a.outcome, ...('incidentId' in a ? { incidentId: a.incidentId } : {}) })) };
