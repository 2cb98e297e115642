import type { HostEvent, HostHook } from './types.ts';

export type HostEventListener = (event: HostEvent) => void;

/**
 * What the "hypervisor" tells the host when a NIC appears or disappears: the configured hook (awaited, so
 * a job only succeeds after the harness made the link), then synchronous listeners (the NDJSON stream).
 */
export class HostEventHub {
  readonly #hook: HostHook | undefined;
  readonly #listeners = new Set<HostEventListener>();
  #history: HostEvent[] = [];

  constructor(hook: HostHook | undefined) {
    this.#hook = hook;
  }

  subscribe(listener: HostEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  history(): HostEvent[] {
    return this.#history.map((event) => ({ ...event }));
  }

  clearHistory(): void {
    this.#history = [];
  }

  /** Resolves with the hook's error, if any; listener errors are reported the same way. */
  async deliver(event: HostEvent): Promise<unknown[]> {
    const errors: unknown[] = [];
    if (this.#hook) {
      try {
        await this.#hook({ ...event });
      } catch (err) {
        errors.push(err);
      }
    }
    this.#history.push({ ...event });
    for (const listener of this.#listeners) {
      try {
        listener({ ...event });
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }
}
