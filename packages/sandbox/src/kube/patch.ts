import { clone, isJsonObject, jsonEqual } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';

/**
 * `malformed`: the patch document itself is wrong (the apiserver answers 400);
 * `failed`: a well-formed patch does not apply to this object (422, e.g. a failing `test`).
 */
export class PatchError extends Error {
  readonly kind: 'malformed' | 'failed';

  constructor(kind: 'malformed' | 'failed', message: string) {
    super(message);
    this.name = 'PatchError';
    this.kind = kind;
  }
}

/** RFC 7386 JSON Merge Patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return clone(patch);
  const result: JsonObject = isJsonObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string[];
  from: string[] | undefined;
  value: JsonValue | undefined;
  hasValue: boolean;
}

/** RFC 6901 pointer: `/a/b~1c/0` → ['a', 'b/c', '0']. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError('malformed', `JSON pointer "${pointer}" must start with "/"`);
  return pointer.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const OPS: readonly Operation['op'][] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

function isOp(value: JsonValue | undefined): value is Operation['op'] {
  return OPS.some((op) => op === value);
}

function decodeOperations(patch: JsonValue): Operation[] {
  if (!Array.isArray(patch)) throw new PatchError('malformed', 'a JSON patch must be an array of operations');
  return patch.map((raw, i) => {
    if (!isJsonObject(raw)) throw new PatchError('malformed', `operation ${i} is not an object`);
    const op = raw['op'];
    if (!isOp(op)) throw new PatchError('malformed', `operation ${i}: unknown op ${JSON.stringify(op ?? null)}`);
    const path = raw['path'];
    if (typeof path !== 'string') throw new PatchError('malformed', `operation ${i}: missing path`);
    const from = raw['from'];
    if ((op === 'move' || op === 'copy') && typeof from !== 'string') throw new PatchError('malformed', `operation ${i}: missing from`);
    const hasValue = Object.hasOwn(raw, 'value');
    if ((op === 'add' || op === 'replace' || op === 'test') && !hasValue) throw new PatchError('malformed', `operation ${i}: missing value`);
    return {
      op,
      path: parsePointer(path),
      from: typeof from === 'string' ? parsePointer(from) : undefined,
      value: raw['value'],
      hasValue,
    };
  });
}

function show(path: readonly string[]): string {
  return '/' + path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function arrayIndex(array: JsonValue[], token: string, forInsert: boolean, path: readonly string[]): number {
  if (forInsert && token === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError('failed', `invalid array index "${token}" at ${show(path)}`);
  const index = Number(token);
  const limit = forInsert ? array.length : array.length - 1;
  if (index > limit) throw new PatchError('failed', `array index ${index} out of bounds at ${show(path)}`);
  return index;
}

function lookup(doc: JsonValue, path: readonly string[]): JsonValue {
  let current: JsonValue = doc;
  for (let i = 0; i < path.length; i++) {
    const token = path[i] ?? '';
    if (Array.isArray(current)) {
      current = current[arrayIndex(current, token, false, path)] ?? null;
    } else if (isJsonObject(current) && Object.hasOwn(current, token)) {
      current = current[token] ?? null;
    } else {
      throw new PatchError('failed', `path ${show(path)} does not exist`);
    }
  }
  return current;
}

/** Returns the container of the last token; the container must exist. */
function parentOf(doc: JsonValue, path: readonly string[]): JsonValue {
  return lookup(doc, path.slice(0, -1));
}

function add(doc: JsonValue, path: readonly string[], value: JsonValue): JsonValue {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const token = path[path.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true, path), 0, value);
  else if (isJsonObject(parent)) parent[token] = value;
  else throw new PatchError('failed', `cannot add at ${show(path)}: parent is not a container`);
  return doc;
}

function remove(doc: JsonValue, path: readonly string[]): JsonValue {
  if (path.length === 0) throw new PatchError('failed', 'cannot remove the whole document');
  const parent = parentOf(doc, path);
  const token = path[path.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, false, path), 1);
  else if (isJsonObject(parent) && Object.hasOwn(parent, token)) delete parent[token];
  else throw new PatchError('failed', `path ${show(path)} does not exist`);
  return doc;
}

/** RFC 6902 JSON Patch, applied atomically: on any error the caller keeps the original. */
export function applyJsonPatch(target: JsonValue, patch: JsonValue): JsonValue {
  let doc = clone(target);
  for (const op of decodeOperations(patch)) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, clone(op.value ?? null));
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        lookup(doc, op.path);
        doc = op.path.length === 0 ? clone(op.value ?? null) : add(remove(doc, op.path), op.path, clone(op.value ?? null));
        break;
      case 'move': {
        const from = op.from ?? [];
        const isPrefix = from.length <= op.path.length && from.every((p, i) => op.path[i] === p);
        if (isPrefix && from.length < op.path.length) throw new PatchError('failed', `cannot move ${show(from)} into its own child ${show(op.path)}`);
        const value = lookup(doc, from);
        doc = add(remove(doc, from), op.path, value);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, clone(lookup(doc, op.from ?? [])));
        break;
      case 'test': {
        const actual = lookup(doc, op.path);
        if (!jsonEqual(actual, op.value ?? null)) throw new PatchError('failed', `testing value ${show(op.path)} failed`);
        break;
      }
    }
  }
  return doc;
}
