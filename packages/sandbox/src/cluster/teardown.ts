/**
 * Undo steps recorded as resources are made, run in reverse. Every step is tried even when earlier ones
 * fail, so one stuck link does not leave namespaces and directories behind; the failures are reported
 * together afterwards.
 */

export class SandboxCleanupError extends AggregateError {
  override name = 'SandboxCleanupError';
}

interface Step {
  readonly label: string;
  readonly undo: () => Promise<void>;
}

/** Something was about to be made after the sandbox's teardown ran: nothing would ever remove it. */
export class SandboxClosedError extends Error {
  override name = 'SandboxClosedError';
}

export class Teardown {
  #steps: Step[] = [];
  #ran = false;

  /**
   * Records how to undo something; push it before the creation starts, so a half-made thing is undone too.
   * @throws {@link SandboxClosedError} once {@link run} has started (e.g. a retry loop still going after its
   *   test's sandbox was closed): the thing is then not made, instead of left behind.
   */
  push(label: string, undo: () => Promise<void>): void {
    this.throwIfClosed(label);
    this.#steps.push({ label, undo });
  }

  /** For a creation that records its undo step only once made: call this before making anything. */
  throwIfClosed(label: string): void {
    if (this.#ran) throw new SandboxClosedError(`the sandbox is closed: "${label}" would never run, so nothing is made`);
  }

  /** Runs every step, newest first, once; resolves with the errors (each naming its step). */
  async run(): Promise<Error[]> {
    this.#ran = true;
    const steps = this.#steps.reverse();
    this.#steps = [];
    const errors: Error[] = [];
    for (const step of steps) {
      try {
        await step.undo();
      } catch (err) {
        errors.push(new Error(`cleanup: ${step.label}: ${describeError(err)}`, { cause: err }));
      }
    }
    return errors;
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Throws one error carrying all of `errors`, if there are any. */
export function throwIfAny(errors: readonly Error[], message: string): void {
  if (errors.length > 0) throw new SandboxCleanupError(errors, `${message}: ${errors.map((e) => e.message).join('; ')}`);
}
