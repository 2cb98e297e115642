/**
 * Field readers for the hand-written decoders: each reads one key of an object, checks its type and range,
 * and throws a ProtocolDecodeError naming the field's full path.
 */

import { ProtocolDecodeError } from './decode-error.ts';

export type Obj = Readonly<Record<string, unknown>>;

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function asObject(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolDecodeError(path === '' ? 'body' : path, 'an object', value);
  }
  return value as Obj;
}

export function stringField(o: Obj, key: string, path: string, rule: 'any' | 'non-empty' = 'any'): string {
  const v = o[key];
  if (typeof v !== 'string' || (rule === 'non-empty' && v === '')) {
    throw new ProtocolDecodeError(join(path, key), rule === 'non-empty' ? 'a non-empty string' : 'a string', v);
  }
  return v;
}

export function optionalString(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : stringField(o, key, path);
}

export function booleanField(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new ProtocolDecodeError(join(path, key), 'true or false', v);
  return v;
}

export function integerField(o: Obj, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ProtocolDecodeError(join(path, key), `an integer ${range}`, v);
  }
  return v;
}

export function optionalInteger(o: Obj, key: string, path: string, min: number, max?: number): number | undefined {
  return o[key] === undefined ? undefined : integerField(o, key, path, min, max);
}

export function listField<T>(o: Obj, key: string, path: string, item: (value: unknown, path: string) => T): T[] {
  const v = o[key];
  const at = join(path, key);
  if (!Array.isArray(v)) throw new ProtocolDecodeError(at, 'a list', v);
  return v.map((x: unknown, i) => item(x, join(at, i)));
}

export function stringItem(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ProtocolDecodeError(path, 'a string', value);
  return value;
}
