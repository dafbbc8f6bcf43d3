import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Telemetry } from '../killswitch/ports.ts';

export const METRICS_NAMESPACE = 'killswitch';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  /** The use cases' view of both: counts and log lines. */
  telemetry: Telemetry;
}

/**
 * Logger and metrics for one function (Powertools). Logs carry ids and counts only: never
 * event payloads, employee contact data, notice bodies or detector free text.
 */
export function observability(service: string): Observability {
  const logger = new Logger({ serviceName: `killswitch-${service}` });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: service,
    // Metrics' own notices through our logger. An invocation that counted nothing is normal here (a
    // status read, a continuation): that one warning is a debug line; every other stays a warning.
    logger: {
      debug: (...m: unknown[]) => logger.debug(String(m[0])),
      info: (...m: unknown[]) => logger.info(String(m[0])),
      warn: (...m: unknown[]) =>
        String(m[0]).startsWith('No application metrics') ? logger.debug(String(m[0])) : logger.warn(String(m[0])),
      error: (...m: unknown[]) => logger.error(String(m[0])),
    },
  });
  const emit = (metric: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions?: Record<string, string>) => {
    if (dimensions) {
      // A metric with its own dimensions goes out as its own record, not onto the function's.
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(metric, unit, value);
    } else metrics.addMetric(metric, unit, value);
  };
  const telemetry: Telemetry = {
    count: (metric, value = 1, dimensions) => emit(metric, MetricUnit.Count, value, dimensions),
    gauge: (metric, value, dimensions) => emit(metric, MetricUnit.NoUnit, value, dimensions),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
  return { logger, metrics, telemetry };
}

export { describeError } from '../domain/errors.ts';
