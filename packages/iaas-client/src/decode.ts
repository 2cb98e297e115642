import { IaasResponseError } from './errors.ts';

/**
 * Typed reads from a response object. A missing or mistyped field we rely on becomes an
 * IaasResponseError naming the action and the field path, instead of a crash deep in the caller.
 */
export class FieldReader {
  readonly action: string;
  readonly path: string;
  readonly #obj: Record<string, unknown>;

  constructor(action: string, obj: unknown, path = '') {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new IaasResponseError(action, path || '(root)', 'is not an object');
    }
    this.action = action;
    this.path = path;
    this.#obj = obj as Record<string, unknown>;
  }

  #at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  #fail(key: string, problem: string): never {
    throw new IaasResponseError(this.action, this.#at(key), problem);
  }

  has(key: string): boolean {
    return this.#obj[key] !== undefined && this.#obj[key] !== null;
  }

  str(key: string): string {
    const v = this.#obj[key];
    if (typeof v !== 'string') this.#fail(key, v === undefined || v === null ? 'is missing' : `is not a string`);
    return v;
  }

  optStr(key: string): string | undefined {
    const v = this.#obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.#fail(key, 'is not a string');
    return v;
  }

  int(key: string): number {
    const v = this.#obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.#fail(key, v === undefined || v === null ? 'is missing' : 'is not an integer');
    }
    return v;
  }

  optInt(key: string): number | undefined {
    return this.has(key) ? this.int(key) : undefined;
  }

  /** An optional object; null when absent or null. */
  optObj(key: string): FieldReader | null {
    return this.has(key) ? new FieldReader(this.action, this.#obj[key], this.#at(key)) : null;
  }

  /** A list of objects; an absent list is empty (QingCloud omits empty sets). */
  list(key: string): FieldReader[] {
    const v = this.#obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.#fail(key, 'is not a list');
    return v.map((item, i) => new FieldReader(this.action, item, `${this.#at(key)}.${i}`));
  }

  strList(key: string): string[] {
    const v = this.#obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) this.#fail(key, 'is not a list of strings');
    return v as string[];
  }

  raw(key: string): unknown {
    return this.#obj[key];
  }
}
