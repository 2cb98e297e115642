import { badParam, missingParam } from './errors.ts';

const INTEGER = /^-?\d+$/;

/**
 * Typed access to a request's decoded flat parameters (`nics.1`, `rules.2.protocol`, ...). Violations are
 * API errors (1100), not exceptions of the fake.
 */
export class ApiParams {
  readonly raw: Readonly<Record<string, string>>;

  constructor(raw: Readonly<Record<string, string>>) {
    this.raw = raw;
  }

  /** The value, with an empty string treated as absent (an empty filter filters nothing). */
  str(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.str(name);
    if (value === undefined) throw missingParam(name);
    return value;
  }

  int(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    const text = this.str(name);
    if (text === undefined) return undefined;
    if (!INTEGER.test(text)) throw badParam(`parameter [${name}] should be an integer, got [${text}]`);
    const value = Number(text);
    if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
      const bounds = range.max === undefined ? `>= ${range.min}` : range.min === undefined ? `<= ${range.max}` : `in ${range.min}..${range.max}`;
      throw badParam(`parameter [${name}] should be ${bounds}, got [${text}]`);
    }
    return value;
  }

  /** `name.1`, `name.2`, ... in index order (not byte order), empty values skipped, duplicates kept once. */
  list(name: string): string[] {
    const prefix = `${name}.`;
    const entries: [number, string][] = [];
    for (const [key, value] of Object.entries(this.raw)) {
      if (!key.startsWith(prefix) || value === '') continue;
      const index = key.slice(prefix.length);
      if (/^\d+$/.test(index)) entries.push([Number(index), value]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    return [...new Set(entries.map(([, value]) => value))];
  }

  /** Like `list`, but a plain `name=value` counts too (hostnic sends `vxnet_type=2` without an index). */
  listOrScalar(name: string): string[] {
    const scalar = this.str(name);
    const list = this.list(name);
    return scalar === undefined ? list : [scalar, ...list.filter((v) => v !== scalar)];
  }

  /** `name.N.field=value` grouped per N, in index order. */
  objects(name: string): { index: number; fields: Record<string, string> }[] {
    const prefix = `${name}.`;
    const byIndex = new Map<number, Record<string, string>>();
    for (const [key, value] of Object.entries(this.raw)) {
      if (!key.startsWith(prefix)) continue;
      const match = /^(\d+)\.(.+)$/.exec(key.slice(prefix.length));
      if (match === null) continue;
      const index = Number(match[1]);
      const fields = byIndex.get(index) ?? {};
      fields[match[2] ?? ''] = value;
      byIndex.set(index, fields);
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([index, fields]) => ({ index, fields }));
  }
}

export interface Page<T> {
  total_count: number;
  items: T[];
}

/** Filter first (the caller did), then count, then offset, then limit capped at `maxLimit`. */
export function paginate<T>(matches: readonly T[], params: ApiParams, maxLimit: number): Page<T> {
  const offset = params.int('offset', { min: 0 }) ?? 0;
  const limit = Math.min(params.int('limit', { min: 0 }) ?? 20, maxLimit);
  return { total_count: matches.length, items: matches.slice(offset, offset + limit) };
}
