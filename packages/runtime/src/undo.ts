/**
 * Steps to undo when a multi-step operation fails half way: pushed as each step succeeds, run newest first,
 * each tried even when an earlier one fails, so that one stuck step does not strand the others.
 */

import { errorText } from './errors.ts';

export interface UndoFailure {
  readonly what: string;
  readonly error: unknown;
}

export class UndoStack {
  readonly #steps: { what: string; run: () => Promise<unknown> }[] = [];

  push(what: string, run: () => Promise<unknown>): void {
    this.#steps.push({ what, run });
  }

  get size(): number {
    return this.#steps.length;
  }

  /** Forgets every step (the operation succeeded). */
  clear(): void {
    this.#steps.length = 0;
  }

  /** Runs every step newest first and empties the stack; returns the steps that failed. */
  async unwind(): Promise<UndoFailure[]> {
    const failures: UndoFailure[] = [];
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        failures.push({ what: step.what, error });
      }
    }
    return failures;
  }
}

/** `what: message; what: message`, for the error that reports a failed rollback. */
export function describeUndoFailures(failures: readonly UndoFailure[]): string {
  return failures.map((f) => `${f.what}: ${errorText(f.error)}`).join('; ');
}
