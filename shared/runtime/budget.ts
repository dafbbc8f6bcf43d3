import type { Context } from 'aws-lambda';
import { budgetUntil, type Budget } from '../domain/work.ts';

/**
 * The time budget of one invocation: what Lambda leaves of the function's timeout, less a margin
 * for finishing cleanly (queuing the continuation, flushing metrics), and at most `maxMs`.
 */
export function invocationBudget(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  options: { marginMs: number; maxMs: number },
): Budget {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() - options.marginMs : options.maxMs;
  return budgetUntil(Date.now() + Math.min(remaining, options.maxMs));
}
