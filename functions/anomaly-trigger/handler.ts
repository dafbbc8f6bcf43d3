import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AnomalyEventSchema } from '#shared/schemas/anomaly.ts';
import { parseOrThrow } from '#shared/errors.ts';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { killSwitchServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';

const { logger, metrics } = observability('anomaly-trigger');
const services = killSwitchServices();
const trigger = new AnomalyTrigger(services);

/**
 * EventBridge target for `Anomaly Detected`. Parses, hands the anomaly to the trigger use
 * case, and rethrows every failure so that Lambda retries it and then sends it to the DLQ.
 */
export const handler = async (event: unknown): Promise<{ outcome: string; incidentId: string }> => {
  try {
    const { detail } = parseOrThrow(AnomalyEventSchema, event, 'Anomaly Detected event');
    metrics.addDimensions({ severity: detail.severity });
    metrics.addMetric('AnomalyReceived', MetricUnit.Count, 1);
    const result = await trigger.handle(detail);
    if (result.outcome === 'PAUSED' && result.stateChanged) metrics.addMetric('KillSwitchEngaged', MetricUnit.Count, 1);
    logger.info('anomaly handled', { ...result, programId: detail.programId, anomalyId: detail.anomalyId, severity: detail.severity });
    return result;
  } catch (error) {
    metrics.addMetric('AnomalyFailed', MetricUnit.Count, 1);
    logger.error('anomaly not handled; the event will be retried, then kept in the DLQ', describeError(error));
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
};
