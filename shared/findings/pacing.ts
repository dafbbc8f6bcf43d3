/*
 * Pacing of the sweep's calls to the finding services: at their documented rates, with back-off
 * on throttling. No SDK here: the adapters in shared/adapters/findings call through it.
 */

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'SlowDown',
]);
export const isThrottling = (error: unknown): boolean =>
  error instanceof Error &&
  (THROTTLING.has(error.name) || (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling === true);

export interface Pacing {
  /** Least time between two calls to the same API (the source's documented rate). */
  minIntervalMs: number;
  /** Attempts of one call when it is throttled (on top of the SDK's own retries). */
  attempts: number;
  /** First back-off; doubled each time, with full jitter. */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_PACING: Pacing = {
  minIntervalMs: 250,
  attempts: 5,
  baseDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Calls paced at the source's rate; throttled calls back off and retry, then give up (the sweep keeps its watermark). */
export class PacedCaller {
  #last = -Infinity;
  /** Throttled attempts seen, for the sweep report. */
  throttled = 0;
  constructor(private readonly pacing: Pacing) {}

  async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const wait = this.#last + this.pacing.minIntervalMs - performance.now();
      if (wait > 0) await this.pacing.sleep(wait);
      this.#last = performance.now();
      try {
        return await fn();
      } catch (error) {
        if (!isThrottling(error) || attempt >= this.pacing.attempts) throw error;
        this.throttled++;
        await this.pacing.sleep(Math.random() * this.pacing.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}
