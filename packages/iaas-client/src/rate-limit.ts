import { abortReason, systemClock, type Clock } from './clock.ts';

export interface RateLimit {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Requests that may go at once after a quiet period. */
  burst: number;
}

export interface RateLimitOptions {
  /** Limit for read actions (Describe*); null disables it. */
  describe?: RateLimit | null;
  /** Limit for every other action; null disables it. */
  mutate?: RateLimit | null;
  /** Per-action overrides, by wire name (e.g. `CreateNics`); null disables the limit for that action. */
  actions?: Readonly<Record<string, RateLimit | null>>;
}

/**
 * Defaults are per action and per client. QingCloud documents no per-second limit, only a daily quota,
 * but a whole cluster's agents starting at once can still trip the server's own throttling (5100).
 */
export const DEFAULT_RATE_LIMITS: Required<Pick<RateLimitOptions, 'describe' | 'mutate'>> = {
  describe: { ratePerSecond: 10, burst: 20 },
  mutate: { ratePerSecond: 2, burst: 5 },
};

export class RateLimitConfigError extends RangeError {
  override name = 'RateLimitConfigError';
}

function validate(limit: RateLimit, where: string): RateLimit {
  if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) {
    throw new RateLimitConfigError(`${where}.ratePerSecond must be a positive number, got ${limit.ratePerSecond}`);
  }
  if (!Number.isInteger(limit.burst) || limit.burst < 1) {
    throw new RateLimitConfigError(`${where}.burst must be an integer of at least 1, got ${limit.burst}`);
  }
  return limit;
}

/**
 * A token bucket that hands out reservations: a caller takes a token now, possibly driving the balance
 * negative, and waits until the refill covers it. Waiters are thus served in arrival order without a queue.
 */
export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(limit: RateLimit, clock: Clock = systemClock) {
    this.#limit = validate(limit, 'rateLimit');
    this.#clock = clock;
    this.#tokens = limit.burst;
    this.#last = clock.now().getTime();
  }

  #refill(): void {
    const now = this.#clock.now().getTime();
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsed * this.#limit.ratePerSecond);
    this.#last = now;
  }

  /** Milliseconds the caller waited. */
  async take(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) throw abortReason(signal);
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    const waitMs = Math.ceil((-this.#tokens / this.#limit.ratePerSecond) * 1000);
    try {
      await this.#clock.sleep(waitMs, signal);
    } catch (err) {
      // Give the reservation back so an aborted caller does not delay the ones behind it.
      this.#tokens += 1;
      throw err;
    }
    return waitMs;
  }
}

export class ActionRateLimiter {
  readonly #options: RateLimitOptions;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, TokenBucket | null>();

  constructor(options: RateLimitOptions = DEFAULT_RATE_LIMITS, clock: Clock = systemClock) {
    this.#options = options;
    this.#clock = clock;
    for (const [name, limit] of Object.entries({ describe: options.describe, mutate: options.mutate })) {
      if (limit) validate(limit, `rateLimit.${name}`);
    }
    for (const [action, limit] of Object.entries(options.actions ?? {})) {
      if (limit) validate(limit, `rateLimit.actions.${action}`);
    }
  }

  #bucket(action: string): TokenBucket | null {
    let bucket = this.#buckets.get(action);
    if (bucket === undefined) {
      const overrides = this.#options.actions ?? {};
      const limit =
        action in overrides
          ? overrides[action]
          : action.startsWith('Describe')
            ? this.#options.describe
            : this.#options.mutate;
      bucket = limit ? new TokenBucket(limit, this.#clock) : null;
      this.#buckets.set(action, bucket);
    }
    return bucket;
  }

  /** Waits for a token of this action's bucket; returns the milliseconds waited. */
  take(action: string, signal?: AbortSignal): Promise<number> {
    return this.#bucket(action)?.take(signal) ?? Promise.resolve(0);
  }
}
