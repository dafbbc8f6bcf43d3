import type { DeadlineWatchResult } from '#shared/record/deadline-watch.ts';
import { deadlineWatchServices } from '#shared/runtime/deadline-watch-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';

const obs = observability('deadline-watch');
const { watch } = deadlineWatchServices(undefined, obs.telemetry);

/**
 * Scheduled (EventBridge rule, every 15 minutes): the GDPR Art. 33 clock's watch (DeadlineWatch.run):
 * counts incidents past 48, 66 and 72 hours with no authority decision for the alarms, alerts the
 * operators once per incident and mark, and seals chains a writer left unsealed.
 */
export const handler = instrumented(async (): Promise<DeadlineWatchResult> => watch.run(), obs);
