import { clone, isJsonObject, jsonEqual } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { PatchError } from './patch.ts';

/**
 * Strategic merge patch for built-in kinds, as `kubectl apply` and `kubectl edit` send it: lists of objects
 * merge item by item on their merge key (containers by name, volumeMounts by mountPath, ...), with the
 * directives `$patch` (replace, delete, merge), `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>`. The apiserver reads merge keys from Go struct tags; here they come from
 * the field name, which is unambiguous for the kinds the fake serves (ports aside, decided by their items).
 */

const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  secrets: 'name',
  resourceClaims: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  topologySpreadConstraints: 'topologyKey',
};

/** Primitive lists whose patchStrategy is merge: the patch's values are added to the stored ones. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

/** Container ports merge on containerPort, Service ports on port. */
function mergeKeyOf(field: string, items: readonly JsonValue[]): string | undefined {
  if (field === 'ports') return items.some((i) => isJsonObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

function directiveValue(patch: JsonObject): string | undefined {
  const value = patch['$patch'];
  if (value === undefined) return undefined;
  if (value !== 'replace' && value !== 'delete' && value !== 'merge') throw new PatchError('malformed', `unknown $patch directive ${JSON.stringify(value)}`);
  return value;
}

/** A value from the patch stored as new: its directives are applied to nothing and so drop out. */
function fresh(field: string, value: JsonValue): JsonValue {
  if (isJsonObject(value)) return mergeObject({}, value) ?? {};
  if (Array.isArray(value)) return mergeList(field, [], value);
  return value;
}

function reorder(field: string, list: JsonValue[], order: JsonValue): JsonValue[] {
  if (!Array.isArray(order)) throw new PatchError('malformed', `${SET_ORDER}${field} must be a list`);
  const key = mergeKeyOf(field, [...list, ...order]);
  const identity = (v: JsonValue): JsonValue => (key !== undefined && isJsonObject(v) ? (v[key] ?? null) : v);
  const rank = (v: JsonValue): number => {
    const i = order.findIndex((o) => jsonEqual(identity(o), identity(v)));
    return i === -1 ? order.length : i;
  };
  // Items the order does not name (kept by the server) go after the named ones, in their stored order.
  return list.map((v, i) => ({ v, i })).sort((a, b) => rank(a.v) - rank(b.v) || a.i - b.i).map(({ v }) => v);
}

function mergeList(field: string, original: JsonValue | undefined, patch: JsonValue[]): JsonValue[] {
  const replace = patch.findIndex((i) => isJsonObject(i) && i['$patch'] === 'replace' && Object.keys(i).length === 1);
  if (replace !== -1) return patch.filter((_, i) => i !== replace).map((v) => fresh(field, v));
  const stored = Array.isArray(original) ? original : [];
  const key = mergeKeyOf(field, [...stored, ...patch]);
  if (key === undefined) {
    if (!MERGED_PRIMITIVE_LISTS.has(field)) return patch.map((v) => fresh(field, v));
    const out = clone(stored);
    for (const v of patch) if (!out.some((o) => jsonEqual(o, v))) out.push(v);
    return out;
  }
  const out = clone(stored);
  for (const item of patch) {
    if (!isJsonObject(item)) throw new PatchError('malformed', `${field}: items must be objects with a ${key}`);
    const index = out.findIndex((o) => isJsonObject(o) && jsonEqual(o[key], item[key]));
    const existing = out[index];
    if (item['$patch'] === 'delete') {
      if (index !== -1) out.splice(index, 1);
      continue;
    }
    const merged = mergeObject(isJsonObject(existing) ? existing : {}, item) ?? {};
    if (index === -1) out.push(merged);
    else out[index] = merged;
  }
  return out;
}

/** Undefined when the patch deletes the object (`$patch: delete`). */
function mergeObject(original: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = directiveValue(patch);
  if (directive === 'delete') return undefined;
  const base: JsonObject = directive === 'replace' ? {} : clone(original);
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ORDER)) continue;
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      const current = base[field];
      if (!Array.isArray(value)) throw new PatchError('malformed', `${key} must be a list`);
      if (Array.isArray(current)) base[field] = current.filter((v) => !value.some((d) => jsonEqual(d, v)));
      continue;
    }
    if (value === null) {
      delete base[key];
    } else if (isJsonObject(value)) {
      const current = base[key];
      const merged = mergeObject(isJsonObject(current) ? current : {}, value);
      if (merged === undefined) delete base[key];
      else base[key] = merged;
    } else if (Array.isArray(value)) {
      base[key] = mergeList(key, base[key], value);
    } else {
      base[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    const current = base[field];
    if (Array.isArray(current)) base[field] = reorder(field, current, order);
  }
  const retain = patch['$retainKeys'];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError('malformed', '$retainKeys must be a list of field names');
    for (const key of Object.keys(base)) if (!retain.includes(key)) delete base[key];
  }
  return base;
}

export function applyStrategicMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) throw new PatchError('malformed', 'a strategic merge patch must be a JSON object');
  const merged = mergeObject(isJsonObject(target) ? target : {}, patch);
  if (merged === undefined) throw new PatchError('failed', 'a strategic merge patch cannot delete the whole object');
  return merged;
}
