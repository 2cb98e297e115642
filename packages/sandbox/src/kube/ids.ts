import { createHash } from 'node:crypto';

/** The alphabet apimachinery uses for generateName suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * uids and generateName suffixes derived from a seed and a counter, so that two runs with the same seed
 * and the same sequence of requests produce the same objects.
 */
export class IdSource {
  readonly #seed: string;
  #counter = 0;

  constructor(seed: string) {
    this.#seed = seed;
  }

  #digest(purpose: string): Buffer {
    this.#counter += 1;
    return createHash('sha256').update(`${this.#seed}\0${purpose}\0${this.#counter}`).digest();
  }

  /** An RFC 4122 version-4-shaped uid. */
  uid(): string {
    const bytes = this.#digest('uid').subarray(0, 16);
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  suffix(length = 5): string {
    const bytes = this.#digest('name');
    let out = '';
    for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[(bytes[i] ?? 0) % SUFFIX_ALPHABET.length];
    return out;
  }
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
