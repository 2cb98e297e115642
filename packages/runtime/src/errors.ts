/** Typed errors of the runtime package and the one way the daemons turn a thrown value into log text. */

/** An option given to a runtime helper is out of range; the message names the field and what it must be. */
export class InvalidOptionError extends Error {
  override name = 'InvalidOptionError';
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** The message of an Error, or the thrown value as text (a rejected promise may carry anything). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
