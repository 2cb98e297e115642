import { FakeInputError } from './errors.ts';

/**
 * Reads untrusted JSON (control API bodies, state files) field by field. Every problem names the full
 * dotted path of the field, and fields nobody read are rejected so that a typo such as `instanceId` for
 * `instance_id` fails loudly instead of being silently ignored.
 */
export class Reader {
  readonly path: string;
  readonly #value: Readonly<Record<string, unknown>>;
  readonly #read = new Set<string>();

  constructor(value: unknown, path: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FakeInputError(path || '(body)', 'must be a JSON object');
    }
    this.path = path;
    this.#value = value as Readonly<Record<string, unknown>>;
  }

  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.#value[key] !== undefined;
  }

  raw(key: string): unknown {
    this.#read.add(key);
    return this.#value[key];
  }

  optString(key: string, check?: { pattern?: RegExp; hint?: string; oneOf?: readonly string[] }): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new FakeInputError(this.field(key), 'must be a string');
    if (check?.pattern && !check.pattern.test(value)) {
      throw new FakeInputError(this.field(key), `must look like ${check.hint ?? String(check.pattern)}`);
    }
    if (check?.oneOf && !check.oneOf.includes(value)) {
      throw new FakeInputError(this.field(key), `must be one of ${check.oneOf.join(', ')}`);
    }
    return value;
  }

  string(key: string, check?: { pattern?: RegExp; hint?: string; oneOf?: readonly string[] }): string {
    const value = this.optString(key, check);
    if (value === undefined) throw new FakeInputError(this.field(key), 'is required');
    return value;
  }

  /** undefined when absent, null when explicitly null. */
  optStringOrNull(key: string, check?: { pattern?: RegExp; hint?: string }): string | null | undefined {
    if (this.#value[key] === null) {
      this.#read.add(key);
      return null;
    }
    return this.optString(key, check);
  }

  optNumber(key: string, range: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new FakeInputError(this.field(key), 'must be a number');
    if (range.integer && !Number.isInteger(value)) throw new FakeInputError(this.field(key), 'must be an integer');
    if (range.min !== undefined && value < range.min) throw new FakeInputError(this.field(key), `must be >= ${range.min}`);
    if (range.max !== undefined && value > range.max) throw new FakeInputError(this.field(key), `must be <= ${range.max}`);
    return value;
  }

  number(key: string, range: { min?: number; max?: number; integer?: boolean } = {}): number {
    const value = this.optNumber(key, range);
    if (value === undefined) throw new FakeInputError(this.field(key), 'is required');
    return value;
  }

  optInt(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    return this.optNumber(key, { ...range, integer: true });
  }

  optIntOrNull(key: string, range: { min?: number; max?: number } = {}): number | null | undefined {
    if (this.#value[key] === null) {
      this.#read.add(key);
      return null;
    }
    return this.optInt(key, range);
  }

  optBoolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw new FakeInputError(this.field(key), 'must be true or false');
    return value;
  }

  optArray<T>(key: string, item: (value: unknown, path: string) => T): T[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw new FakeInputError(this.field(key), 'must be an array');
    return value.map((entry: unknown, i: number) => item(entry, `${this.field(key)}.${i}`));
  }

  /** Rejects keys nobody asked for. */
  done(): void {
    for (const key of Object.keys(this.#value)) {
      if (!this.#read.has(key)) throw new FakeInputError(this.field(key), 'is not a known field');
    }
  }
}

export function stringItem(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new FakeInputError(path, 'must be a string');
  return value;
}

/** A single string or a list of strings, as fault rules accept for `action`. */
export function stringOrList(reader: Reader, key: string): string | string[] | undefined {
  const value = reader.raw(key);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v: unknown, i: number) => stringItem(v, `${reader.field(key)}.${i}`));
  throw new FakeInputError(reader.field(key), 'must be a string or an array of strings');
}
