export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  baseDelayMs: number;
  /** Upper bound of any single delay, in ms. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 8_000 };

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random. The random half spreads
 * the retries of many agents that failed together; the fixed half keeps each one from retrying at once.
 */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
