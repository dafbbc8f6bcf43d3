import type { Context } from 'aws-lambda';
import { budgetUntil, type Budget } from '../domain/work.ts';

/**
 * The time budget of one invocation: what Lambda leaves of the function's timeout, less a margin
 * for finishing cleanly (queuing the continuation, flushing metrics), and at most `maxMs`
 * (`withoutContextMs` when there is no Lambda context to ask).
 */
export function invocationBudget(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  options: { marginMs: number; maxMs?: number; withoutContextMs?: number },
): Budget {
  const maxMs = options.maxMs ?? Number.MAX_SAFE_INTEGER;
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis() - options.marginMs
      : (options.withoutContextMs ?? maxMs);
  return budgetUntil(Date.now() + Math.min(remaining, maxMs));
}
