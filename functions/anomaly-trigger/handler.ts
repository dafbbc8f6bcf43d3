import { parseAnomalyEvent } from '#shared/killswitch/anomaly-event.ts';
import { receiveAnomaly } from '#shared/killswitch/receive-anomaly.ts';
import { anomalyTriggerServices } from '#shared/runtime/anomaly-trigger-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('anomaly-trigger');
const services = anomalyTriggerServices(undefined, obs.telemetry);

/**
 * `Anomaly Detected` events from the intake queue (EventBridge → SQS → here: the queue holds an
 * anomaly through a storage outage of hours, instead of two asynchronous retries). What can never
 * pause anything goes to the DLQ at once with the reason (parseAnomalyEvent); the rest is handed to
 * the trigger, and a failure is retried by SQS.
 */
export const handler = instrumented(
  sqsWorker({
    name: 'anomaly-trigger',
    logger: obs.logger,
    parse: (body) => parseAnomalyEvent(body, services.programs, new Date()),
    deadLetters: services.deadLetters,
    budgetMs: Number.MAX_SAFE_INTEGER,
    perform: (work) => receiveAnomaly(work, { trigger: services.trigger, telemetry: obs.telemetry }),
  }),
  obs,
);
