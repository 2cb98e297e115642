import { createHash } from 'node:crypto';

/**
 * Deterministic random numbers: SHA-256 over (seed, stream, block counter). Slow by PRNG standards but the
 * fake draws few numbers, and hashing makes independent streams trivially independent (ids and fault dice
 * use different streams, so adding a probabilistic fault does not change the ids a test sees).
 */
export class SeededRandom {
  readonly #seed: number;
  readonly #stream: string;
  #block = 0;
  #pool: number[] = [];

  constructor(seed: number, stream: string) {
    this.#seed = seed;
    this.#stream = stream;
  }

  /** Starts the sequence over, as if freshly constructed. */
  reset(): void {
    this.#block = 0;
    this.#pool = [];
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    if (this.#pool.length === 0) {
      const digest = createHash('sha256').update(`${this.#seed}:${this.#stream}:${this.#block++}`).digest();
      for (let i = 0; i < digest.length; i += 4) this.#pool.push(digest.readUInt32BE(i));
    }
    return this.#pool.shift() ?? 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** QingCloud-shaped ids; `taken` lets the caller avoid collisions with seeded ids. */
export class IdGenerator {
  readonly #random: SeededRandom;

  constructor(random: SeededRandom) {
    this.#random = random;
  }

  alnum(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += ALNUM[this.#random.nextUint32() % ALNUM.length];
    return out;
  }

  /** `prefix` + `length` lower-case alphanumerics, unique under `taken`. */
  id(prefix: string, length: number, taken: (id: string) => boolean = () => false): string {
    for (;;) {
      const candidate = prefix + this.alnum(length);
      if (!taken(candidate)) return candidate;
    }
  }

  /** A lower-case MAC in QEMU/KVM's `52:54:` range, unique under `taken`. */
  mac(taken: (id: string) => boolean = () => false): string {
    for (;;) {
      const bytes = [0x52, 0x54];
      for (let i = 0; i < 4; i++) bytes.push(this.#random.nextUint32() & 0xff);
      const candidate = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
      if (!taken(candidate)) return candidate;
    }
  }
}
