import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type { Observability } from './observability.ts';

/**
 * A handler with the Powertools middleware, as Powertools intends: the tracer's segment around
 * the invocation, the Lambda context on every log line (keys reset between invocations), and the
 * metrics flushed once at the end, success or failure.
 */
export function instrumented<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  o: Pick<Observability, 'logger' | 'metrics' | 'tracer'>,
) {
  return middy(handler)
    .use(captureLambdaHandler(o.tracer, { captureResponse: false }))
    .use(injectLambdaContext(o.logger, { resetKeys: true }))
    .use(logMetrics(o.metrics));
}
