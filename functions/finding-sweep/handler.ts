import type { Context } from 'aws-lambda';
import type { SweepReport } from '#shared/findings/sweep.ts';
import { invocationBudget } from '#shared/runtime/budget.ts';
import { findingSweepServices } from '#shared/runtime/finding-sweep-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';

const obs = observability('finding-sweep');
const { sweep, sources } = findingSweepServices(obs.telemetry);

/**
 * Scheduled (EventBridge rule): lists recent findings of each enabled source and feeds those not
 * yet handled through the finding intake (FindingSweep.runAll), within the invocation's time.
 */
export const handler = instrumented(
  async (_event: unknown, context: Context): Promise<SweepReport[]> =>
    sweep.runAll(sources, invocationBudget(context, { marginMs: 30_000, withoutContextMs: 240_000 }).hasTime),
  obs,
);
