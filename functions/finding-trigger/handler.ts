import { handleFindingEvent, parseFindingMessage } from '#shared/findings/finding-event.ts';
import { findingServices } from '#shared/runtime/finding-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('finding-trigger');
const { intake, rejections, deadLetters } = findingServices(undefined, obs.telemetry);

/** Macie, GuardDuty and Security Hub finding events from the intake queue (default bus → SQS → here); see handleFindingEvent. */
export const handler = instrumented(
  sqsWorker({
    name: 'finding-trigger',
    logger: obs.logger,
    parse: parseFindingMessage,
    deadLetters,
    budgetMs: Number.MAX_SAFE_INTEGER,
    perform: (event) => handleFindingEvent(event, { intake, rejections, telemetry: obs.telemetry }),
  }),
  obs,
);
