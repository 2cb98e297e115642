/**
 * Retry pacing for compare-and-swap loops: exponential backoff with full jitter, so that writers that lost
 * the same race do not collide again in lockstep (Go retried at once, without jitter).
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors.ts';

/** Backoff between compare-and-swap attempts. */
export interface BackoffOptions {
  /** Upper bound of the first wait, ms (default 2). */
  readonly baseMs?: number;
  /** Cap of the upper bound, ms (default 250). */
  readonly maxMs?: number;
}

/** Default bound of the first wait. */
export const DEFAULT_BACKOFF_BASE_MS = 2;
/** Default cap of the wait. */
export const DEFAULT_BACKOFF_MAX_MS = 250;

/** The pacing of one {@link Ipam}: how long to wait after the n-th conflict. */
export interface Pacer {
  /** Waits after the `attempt`-th lost race (1-based). */
  pause(attempt: number): Promise<void>;
}

function finiteNonNegative(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(field, `must be a finite number ≥ 0, got ${value}`);
  return value;
}

/**
 * A pacer: waits a uniformly random time in `[0, min(maxMs, baseMs · 2^(attempt−1)))`.
 * @param options - bounds, or false for no waiting at all
 * @param random - a source of numbers in [0, 1)
 * @param sleep - how to wait
 */
export function jitteredBackoff(
  options: BackoffOptions | false,
  random: () => number,
  sleep: (ms: number) => Promise<void>,
): Pacer {
  if (options === false) return { pause: async () => {} };
  const baseMs = finiteNonNegative('backoff.baseMs', options.baseMs ?? DEFAULT_BACKOFF_BASE_MS);
  const maxMs = finiteNonNegative('backoff.maxMs', options.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
  return {
    async pause(attempt: number): Promise<void> {
      const bound = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
      await sleep(random() * bound);
    },
  };
}

/**
 * Waits `ms` milliseconds on a timer.
 * @param ms - the delay
 */
export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
