/** Runs `task` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A time budget: work stops cleanly before it, leaving a continuation. */
export interface Budget {
  /** True while there is time to start another page. */
  hasTime(): boolean;
}

export const budgetUntil = (deadline: number, now: () => number = Date.now): Budget => ({ hasTime: () => now() < deadline });
