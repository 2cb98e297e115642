/** The "first list applied" barrier of an informer: waiters resolve once, or reject when it stops first. */

import { InformerStoppedError, SyncAbortedError } from './errors.ts';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class SyncGate {
  readonly #name: string;
  readonly #waiters = new Set<Waiter>();
  #open = false;
  #closed = false;

  constructor(name: string) {
    this.#name = name;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Resolves once {@link SyncGate.release} ran; rejects on abort or {@link SyncGate.fail}. */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.#open) return Promise.resolve();
    if (this.#closed) return Promise.reject(new InformerStoppedError(this.#name));
    if (signal?.aborted) return Promise.reject(new SyncAbortedError(this.#name, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(new SyncAbortedError(this.#name, { cause: signal?.reason }));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Returns true the first time (the caller logs it). */
  release(): boolean {
    if (this.#open || this.#closed) return false;
    this.#open = true;
    for (const waiter of [...this.#waiters]) waiter.resolve();
    this.#waiters.clear();
    return true;
  }

  /** The informer stopped: every waiter, now and later, gets InformerStoppedError. */
  fail(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.reject(new InformerStoppedError(this.#name));
    this.#waiters.clear();
  }
}
