import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseAnomalyEvent } from '#shared/killswitch/anomaly-event.ts';
import { anomalyTriggerServices } from '#shared/runtime/composition.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const { logger, metrics } = observability('anomaly-trigger');
const services = anomalyTriggerServices();

/**
 * `Anomaly Detected` events from the intake queue (EventBridge → SQS → here: the queue holds an
 * anomaly through a storage outage of hours, instead of two asynchronous retries). What can never
 * pause anything goes to the DLQ at once with the reason (parseAnomalyEvent); the rest is handed to
 * the trigger, and a failure is retried by SQS.
 */
export const handler = sqsWorker({
  name: 'anomaly-trigger',
  logger,
  parse: (body) => parseAnomalyEvent(body, services.programs, new Date()),
  deadLetters: services.deadLetters,
  budgetMs: Number.MAX_SAFE_INTEGER,
  perform: async ({ eventId, anomaly, issues }) => {
    try {
      metrics.addDimensions({ severity: anomaly.severity });
      metrics.addMetric('AnomalyReceived', MetricUnit.Count, 1);
      if (issues.length) metrics.addMetric('AnomalyInputCleaned', MetricUnit.Count, 1);
      const result = await services.trigger.handle(anomaly, issues);
      if ('stateChanged' in result && result.stateChanged) metrics.addMetric('KillSwitchEngaged', MetricUnit.Count, 1);
      return { eventId, ...result, programId: anomaly.programId, anomalyId: anomaly.anomalyId, severity: anomaly.severity, inputIssues: issues.length };
    } catch (error) {
      metrics.addMetric('AnomalyFailed', MetricUnit.Count, 1);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  },
});
