import { inspect } from 'node:util';

const REDACTED = '<redacted>';

/**
 * An access key pair. The secret lives in a private field, so neither JSON.stringify, util.inspect,
 * template strings nor error messages can print it by accident.
 */
export class Credentials {
  readonly accessKeyId: string;
  readonly #secretAccessKey: string;

  constructor(accessKeyId: string, secretAccessKey: string) {
    this.accessKeyId = accessKeyId;
    this.#secretAccessKey = secretAccessKey;
  }

  /** Only the signer should call this. */
  revealSecret(): string {
    return this.#secretAccessKey;
  }

  toString(): string {
    return `Credentials(${this.accessKeyId}, secret ${REDACTED})`;
  }

  toJSON(): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: this.accessKeyId, secretAccessKey: REDACTED };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
