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

/**
 * The loop of long paged work (revocation, restore): page after page from `cursor`, each page
 * handled in full, until the pages end (`finished`) or the budget does (the cursor to continue
 * from: the page not yet fetched). The budget is checked before every page, never inside one.
 */
export async function pagesWithin<T>(
  budget: Budget,
  cursor: string | undefined,
  fetch: (cursor: string | undefined) => Promise<{ items: T[]; cursor?: string | undefined }>,
  handle: (items: T[]) => Promise<void>,
): Promise<{ finished: true } | { finished: false; cursor: string | undefined }> {
  do {
    if (!budget.hasTime()) return { finished: false, cursor };
    const page = await fetch(cursor);
    await handle(page.items);
    cursor = page.cursor;
  } while (cursor);
  return { finished: true };
}
