import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'killswitch';

/**
 * Logger and metrics for one function. Logs carry ids and counts only: never event payloads,
 * employee contact data, notice bodies or detector free text.
 */
export function observability(service: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName: `killswitch-${service}` }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
  };
}

/** What may be logged about an error: its class, kind and message, not the input that caused it. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { errorName: error.name, errorMessage: error.message, ...('kind' in error ? { errorKind: error.kind } : {}) };
  }
  return { errorName: 'NonError', errorMessage: String(error) };
}
