/**
 * Client-side rate limiting of the Kubernetes API, as client-go's `--kube-api-qps/--kube-api-burst` do: a
 * token bucket of `burst` tokens refilled at `qps` per second, taken by every API request before it is
 * sent. Watches are long-lived and take one token when they (re)connect. Apart from client-node so that the
 * lean client (./http) shares it without loading client-node.
 */

import { InvalidOptionError } from '../errors.ts';
import { sleep } from '../timers.ts';

export interface RateLimit {
  /** Requests per second on average. */
  readonly qps: number;
  /** Requests that may go at once after a quiet spell. */
  readonly burst: number;
}

export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  /** Below 0 when callers are waiting: the debt they have reserved. */
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.qps > 0) || !Number.isFinite(limit.qps)) throw new InvalidOptionError('--k8s-api-qps', `must be a positive number, got ${limit.qps}`);
    if (!Number.isInteger(limit.burst) || limit.burst < 1) throw new InvalidOptionError('--k8s-api-burst', `must be a whole number of at least 1, got ${limit.burst}`);
    this.#qps = limit.qps;
    this.#burst = limit.burst;
    this.#now = now;
    this.#tokens = limit.burst;
    this.#at = now();
  }

  /** Reserves one token and returns how long (ms) the caller must wait before using it. */
  reserve(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#qps);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait);
  }
}
