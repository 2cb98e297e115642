import { silentLogger } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import { InvalidOptionError } from '@hostnic/runtime';
import { describeError } from '@hostnic/runtime/kube/http';

export interface WorkQueueOptions {
  /** For logs. */
  name?: string;
  /** First delay of addRateLimited for a key. Default 5 ms. */
  baseDelayMs?: number;
  /** Cap of the per-key doubling. Default 1000 s. */
  maxDelayMs?: number;
  /** Called when process() throws, before the key is re-queued with backoff. */
  onError?: (key: string, error: unknown) => void;
  log?: Logger;
}

/** What process() may return: come back to this key later although nothing failed. */
export type ProcessResult = void | { requeueAfterMs: number };

interface Delayed {
  readyAt: number;
  timer: NodeJS.Timeout;
}

/**
 * client-go's rate-limited work queue for string keys: a key waits in the queue at most once, is
 * handed to one worker at a time (an add while it is being processed queues it again once the worker
 * is done), and failures come back with per-key exponential backoff.
 */
export class WorkQueue {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #onError: ((key: string, error: unknown) => void) | undefined;
  readonly #log: Logger;
  /** FIFO of keys ready to be processed. */
  readonly #queue: string[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #failures = new Map<string, number>();
  /** Workers waiting for a key. */
  readonly #wakers = new Set<() => void>();
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    const base = options.baseDelayMs ?? 5;
    const max = options.maxDelayMs ?? 1_000_000;
    if (!(base > 0)) throw new InvalidOptionError('baseDelayMs', 'must be positive');
    if (!(max >= base)) throw new InvalidOptionError('maxDelayMs', 'must be at least baseDelayMs');
    this.#baseDelayMs = base;
    this.#maxDelayMs = max;
    this.#onError = options.onError;
    const log = options.log ?? silentLogger;
    this.#log = options.name === undefined ? log : log.with({ queue: options.name });
  }

  /** Keys waiting to be processed (not those in progress or delayed). */
  get length(): number {
    return this.#queue.length;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // A key in progress is queued again by done(), so that no two workers hold it.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#wake();
  }

  /** Adds the key after `ms`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = Date.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    // A delayed retry alone must not keep a process alive that is otherwise done.
    timer.unref();
    this.#delayed.set(key, { readyAt, timer });
  }

  /** Adds the key after its backoff (base × 2^failures, capped) and counts a failure; returns the delay. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delayMs = Math.min(this.#baseDelayMs * 2 ** Math.min(failures, 64), this.#maxDelayMs);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Resets the key's backoff (after it was processed successfully). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Failures counted for the key since it was last forgotten. */
  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Refuses new keys, drops delayed ones and lets workers exit after their current key. */
  shutdown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#wakeAll();
  }

  /**
   * Processes keys with `workers` concurrent workers until the signal aborts or the queue is shut
   * down, then waits for the keys in progress. A throw re-queues the key with backoff; success
   * forgets its failures; `{ requeueAfterMs }` brings it back later.
   */
  async run(workers: number, process: (key: string) => Promise<ProcessResult>, signal: AbortSignal): Promise<void> {
    if (!Number.isInteger(workers) || workers < 1) throw new InvalidOptionError('workers', 'must be a positive integer');
    const onAbort = (): void => this.#wakeAll();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(Array.from({ length: workers }, () => this.#work(process, signal)));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #work(handle: (key: string) => Promise<ProcessResult>, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.#next(signal);
      if (key === undefined) return;
      try {
        const result = await handle(key);
        this.forget(key);
        if (result && result.requeueAfterMs >= 0) this.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        this.#reportError(key, error);
        this.addRateLimited(key);
      } finally {
        this.#done(key);
      }
    }
  }

  async #next(signal: AbortSignal): Promise<string | undefined> {
    for (;;) {
      if (signal.aborted || this.#shutDown) {
        // This worker may have taken a wake-up meant for a key; pass it on to a worker of another run().
        if (this.#queue.length > 0) this.#wake();
        return undefined;
      }
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#dirty.delete(key);
        this.#processing.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.#wakers.add(resolve));
    }
  }

  #done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shutDown) {
      this.#queue.push(key);
      this.#wake();
    }
  }

  #reportError(key: string, error: unknown): void {
    this.#log.warn('processing failed; retrying with backoff', { key, retries: this.retries(key), error: describeError(error) });
    if (!this.#onError) return;
    try {
      this.#onError(key, error);
    } catch (hookError) {
      this.#log.error('onError hook threw', { key, error: describeError(hookError) });
    }
  }

  #wake(): void {
    const [waker] = this.#wakers;
    if (!waker) return;
    this.#wakers.delete(waker);
    waker();
  }

  #wakeAll(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const waker of wakers) waker();
  }
}
