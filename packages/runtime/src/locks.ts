/**
 * Per-key mutual exclusion: work on one key is serialised, different keys run in parallel, and a long wait
 * under one key never blocks another.
 */

export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` is done; failures of earlier holders do not leak. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Drop the entry when nobody queued behind us, so the map does not grow with every key ever seen.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Whether someone holds or waits for `key`. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** How many keys are held or waited for. */
  get size(): number {
    return this.#tails.size;
  }
}

/**
 * Many shared holders or one exclusive holder. An exclusive request waits for the shared holders in progress
 * and keeps new ones waiting until it is done, so it sees a state no shared holder is changing.
 */
export class SharedExclusiveGate {
  #shared = 0;
  #exclusive: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #waiting = 0;

  /** Shared holders waiting for an exclusive holder to finish. */
  get waiting(): number {
    return this.#waiting;
  }

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) {
      this.#waiting++;
      try {
        await this.#exclusive;
      } finally {
        this.#waiting--;
      }
    }
    this.#shared++;
    try {
      return await fn();
    } finally {
      this.#shared--;
      if (this.#shared === 0) this.#drained?.();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive;
    let done!: () => void;
    this.#exclusive = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      if (this.#shared > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
        this.#drained = undefined;
      }
      return await fn();
    } finally {
      this.#exclusive = undefined;
      done();
    }
  }
}
