import { clone, isJsonObject, jsonEqual } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { StatusCause } from './status.ts';

/**
 * One node of a CRD's structural openAPIV3Schema, read once. Only what the apiserver uses to prune,
 * default and validate is kept; allOf/anyOf/oneOf/not and CEL rules (x-kubernetes-validations) are not modelled.
 */
export interface Structural {
  readonly type: string | undefined;
  readonly properties: ReadonlyMap<string, Structural> | undefined;
  /** A schema for map values; `true` keeps values as they are. */
  readonly additionalProperties: Structural | true | undefined;
  readonly items: Structural | undefined;
  readonly required: readonly string[];
  readonly enum: readonly JsonValue[] | undefined;
  readonly nullable: boolean;
  readonly format: string | undefined;
  readonly minimum: number | undefined;
  readonly maximum: number | undefined;
  readonly exclusiveMinimum: boolean;
  readonly exclusiveMaximum: boolean;
  readonly minLength: number | undefined;
  readonly maxLength: number | undefined;
  readonly pattern: string | undefined;
  readonly minItems: number | undefined;
  readonly maxItems: number | undefined;
  readonly default: JsonValue | undefined;
  readonly preserveUnknownFields: boolean;
  readonly intOrString: boolean;
  readonly embeddedResource: boolean;
}

function num(node: JsonObject, key: string): number | undefined {
  const value = node[key];
  return typeof value === 'number' ? value : undefined;
}

export function toStructural(node: JsonObject): Structural {
  const props = node['properties'];
  const additional = node['additionalProperties'];
  const items = node['items'];
  const required = node['required'];
  const enumValues = node['enum'];
  const dflt = node['default'];
  return {
    type: typeof node['type'] === 'string' && node['type'] !== '' ? node['type'] : undefined,
    properties: isJsonObject(props)
      ? new Map(Object.entries(props).filter((e): e is [string, JsonObject] => isJsonObject(e[1])).map(([k, v]) => [k, toStructural(v)]))
      : undefined,
    additionalProperties: isJsonObject(additional) ? toStructural(additional) : additional === true ? true : undefined,
    items: isJsonObject(items) ? toStructural(items) : undefined,
    required: Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [],
    enum: Array.isArray(enumValues) ? enumValues : undefined,
    nullable: node['nullable'] === true,
    format: typeof node['format'] === 'string' ? node['format'] : undefined,
    minimum: num(node, 'minimum'),
    maximum: num(node, 'maximum'),
    exclusiveMinimum: node['exclusiveMinimum'] === true,
    exclusiveMaximum: node['exclusiveMaximum'] === true,
    minLength: num(node, 'minLength'),
    maxLength: num(node, 'maxLength'),
    pattern: typeof node['pattern'] === 'string' ? node['pattern'] : undefined,
    minItems: num(node, 'minItems'),
    maxItems: num(node, 'maxItems'),
    // The apiserver reads a null default as no default.
    default: dflt === null ? undefined : dflt,
    preserveUnknownFields: node['x-kubernetes-preserve-unknown-fields'] === true,
    intOrString: node['x-kubernetes-int-or-string'] === true,
    embeddedResource: node['x-kubernetes-embedded-resource'] === true,
  };
}

/** The schema for the value under `key` of an object node, if it declares one. */
function childSchema(s: Structural | undefined, key: string): Structural | undefined {
  if (!s) return undefined;
  const prop = s.properties?.get(key);
  if (prop) return prop;
  return s.additionalProperties === true ? undefined : s.additionalProperties;
}

const EMBEDDED_META = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Drops object fields the schema does not declare, as the apiserver's structural pruning does on every
 * write: silently. `x-kubernetes-preserve-unknown-fields` keeps unknown fields at that level (declared ones
 * are still pruned inside); embedded resources keep apiVersion, kind and metadata.
 */
export function prune(value: JsonValue, s: Structural | undefined): JsonValue {
  if (s?.preserveUnknownFields) return keepUnknown(value, s);
  if (Array.isArray(value)) return value.map((item) => prune(item, s?.items));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  if (!s) return out;
  for (const [key, item] of Object.entries(value)) {
    if (s.embeddedResource && EMBEDDED_META.has(key)) out[key] = item;
    else if (s.properties?.has(key)) out[key] = prune(item, s.properties.get(key));
    else if (s.additionalProperties === true) out[key] = item;
    else if (s.additionalProperties) out[key] = prune(item, s.additionalProperties);
  }
  return out;
}

function keepUnknown(value: JsonValue, s: Structural): JsonValue {
  if (Array.isArray(value)) return value.map((item) => (s.items ? keepUnknown(item, s.items) : item));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const child = s.embeddedResource && EMBEDDED_META.has(key) ? undefined : childSchema(s, key);
    out[key] = child ? prune(item, child) : item;
  }
  return out;
}

function isNonNullableNull(value: JsonValue | undefined, s: Structural | undefined): s is Structural {
  return value === null && s !== undefined && !s.nullable;
}

/**
 * Null in a field that is not nullable goes (or becomes the field's default), then missing fields with a
 * default get it; defaults never create a missing parent object.
 */
export function applyDefaults(value: JsonValue, s: Structural | undefined): JsonValue {
  if (!s) return value;
  if (Array.isArray(value)) {
    const items = s.items;
    return value.map((item) => {
      const filled = isNonNullableNull(item, items) && items.default !== undefined ? clone(items.default) : item;
      return applyDefaults(filled, items);
    });
  }
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const child = childSchema(s, key);
    if (isNonNullableNull(item, child)) {
      if (child.default !== undefined) out[key] = clone(child.default);
    } else {
      out[key] = item;
    }
  }
  for (const [key, prop] of s.properties ?? []) {
    if (prop.default !== undefined && out[key] === undefined) out[key] = clone(prop.default);
  }
  for (const [key, item] of Object.entries(out)) out[key] = applyDefaults(item, childSchema(s, key));
  return out;
}

/** The JSON type name the apiserver's validator reports for a value. */
export function jsonType(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** A value as Go's field.Error prints it: strings quoted, scalars bare, the rest as JSON. */
export function formatValue(value: JsonValue): string {
  if (value === null) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function typeMatches(type: string, value: JsonValue): boolean {
  const actual = jsonType(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return type === actual;
}

const STRING_FORMATS: Readonly<Record<string, (v: string) => boolean>> = {
  // As lenient as Go's strfmt: seconds, fraction and zone may be left out, the zone may lack its colon.
  'date-time': (v) => /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$/.test(v),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  uuid: (v) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
  byte: (v) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
  ipv4: isIpv4,
  ipv6: isIpv6,
  cidr: (v) => {
    const slash = v.indexOf('/');
    if (slash < 0) return false;
    const ip = v.slice(0, slash);
    const bits = v.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits)) return false;
    if (isIpv4(ip)) return Number(bits) <= 32;
    return isIpv6(ip) && Number(bits) <= 128;
  },
};

function isIpv4(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIpv6(v: string): boolean {
  if (!v.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(v)) return false;
  try {
    return new URL(`http://[${v}]/`).hostname !== '';
  } catch {
    return false;
  }
}

function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function invalidValue(field: string, value: JsonValue, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${formatValue(value)}: ${detail}`, field };
}

function typeInvalid(field: string, type: string, value: JsonValue): StatusCause {
  const actual = jsonType(value);
  return {
    reason: 'FieldValueTypeInvalid',
    message: `Invalid value: ${JSON.stringify(actual)}: ${field} in body must be of type ${type}: ${JSON.stringify(actual)}`,
    field,
  };
}

/**
 * Validates `value` at `path` (`spec.blockSize`), with the causes and messages of the apiserver's
 * OpenAPI validator. With `old` (updates), a subtree equal to its old value is not checked again, as
 * with CRD validation ratcheting.
 */
export function validate(value: JsonValue, s: Structural, path: string, old?: JsonValue): StatusCause[] {
  if (old !== undefined && jsonEqual(old, value)) return [];
  if (value === null) {
    if (s.nullable || (s.type === undefined && !s.intOrString)) return [];
    return [typeInvalid(path, s.intOrString ? 'integer,string' : (s.type ?? ''), value)];
  }
  if (s.intOrString) {
    const t = jsonType(value);
    if (t !== 'integer' && t !== 'string') return [typeInvalid(path, 'integer,string', value)];
  } else if (s.type !== undefined && !typeMatches(s.type, value)) {
    return [typeInvalid(path, s.type, value)];
  }
  const causes: StatusCause[] = [];
  if (s.enum && !s.enum.some((e) => jsonEqual(e, value))) {
    const supported = s.enum.map((e) => JSON.stringify(typeof e === 'string' ? e : JSON.stringify(e))).join(', ');
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${formatValue(value)}: supported values: ${supported}`, field: path });
  }
  if (typeof value === 'number') causes.push(...numberCauses(value, s, path));
  else if (typeof value === 'string') causes.push(...stringCauses(value, s, path));
  else if (Array.isArray(value)) causes.push(...arrayCauses(value, s, path, Array.isArray(old) ? old : undefined));
  else if (isJsonObject(value)) causes.push(...objectCauses(value, s, path, isJsonObject(old) ? old : undefined));
  return causes;
}

function numberCauses(value: number, s: Structural, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
    causes.push(invalidValue(path, value, `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
    causes.push(invalidValue(path, value, `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  return causes;
}

function stringCauses(value: string, s: Structural, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  // Go counts bytes of UTF-8, as the apiserver's length checks do.
  const length = Buffer.byteLength(value, 'utf8');
  if (s.maxLength !== undefined && length > s.maxLength) {
    causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${s.maxLength} ${s.maxLength === 1 ? 'byte' : 'bytes'}`, field: path });
  }
  if (s.minLength !== undefined && length < s.minLength) {
    causes.push(invalidValue(path, value, `${path} in body should be at least ${s.minLength} chars long`));
  }
  if (s.pattern !== undefined && !matchesPattern(s.pattern, value)) {
    causes.push(invalidValue(path, value, `${path} in body should match '${s.pattern}'`));
  }
  const check = s.format === undefined ? undefined : STRING_FORMATS[s.format];
  if (check && !check(value)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${formatValue(value)}: ${path} in body must be of type ${s.format ?? ''}: ${JSON.stringify(value)}`, field: path });
  }
  return causes;
}

function matchesPattern(pattern: string, value: string): boolean {
  // RE2 (Go) accepts escapes that JavaScript's unicode mode refuses; a pattern neither mode compiles is
  // not held against the object.
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags).test(value);
    } catch {
      continue;
    }
  }
  return true;
}

function arrayCauses(value: JsonValue[], s: Structural, path: string, old: JsonValue[] | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  if (s.maxItems !== undefined && value.length > s.maxItems) {
    causes.push({ reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${s.maxItems} items`, field: path });
  }
  if (s.minItems !== undefined && value.length < s.minItems) {
    causes.push(invalidValue(path, value, `${path} in body should have at least ${s.minItems} items`));
  }
  const items = s.items;
  if (items) value.forEach((item, i) => causes.push(...validate(item, items, `${path}[${i}]`, old?.[i])));
  return causes;
}

function objectCauses(value: JsonObject, s: Structural, path: string, old: JsonObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of s.required) {
    if (value[key] === undefined) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: childPath(path, key) });
  }
  for (const [key, item] of Object.entries(value)) {
    if (s.embeddedResource && EMBEDDED_META.has(key)) continue;
    const child = childSchema(s, key);
    if (child) causes.push(...validate(item, child, childPath(path, key), old?.[key]));
  }
  return causes;
}

/** Which part of a custom resource a write owns (the rest is carried over from the stored object). */
export type WritePart = 'all' | 'main' | 'status';

const ROOT_META = new Set(['apiVersion', 'kind', 'metadata']);

function owned(part: WritePart, key: string): boolean {
  if (ROOT_META.has(key)) return false;
  if (part === 'status') return key === 'status';
  if (part === 'main') return key !== 'status';
  return true;
}

export interface Admitted {
  readonly object: JsonObject;
  readonly causes: StatusCause[];
}

/**
 * What the apiserver does to a custom resource between decoding and storage: prune the fields the write
 * owns to the schema, default them, validate them. apiVersion, kind and metadata are left alone (metadata
 * has its own rules); `old` enables ratcheting on updates. The input is not modified.
 */
export function admit(obj: JsonObject, root: Structural, part: WritePart, old?: JsonObject): Admitted {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(obj)) {
    if (!owned(part, key)) {
      out[key] = item;
      continue;
    }
    const child = childSchema(root, key);
    if (child) out[key] = applyDefaults(prune(item, child), child);
    else if (root.preserveUnknownFields || root.additionalProperties === true) out[key] = item;
  }
  for (const [key, prop] of root.properties ?? []) {
    if (owned(part, key) && prop.default !== undefined && out[key] === undefined) out[key] = applyDefaults(clone(prop.default), prop);
  }
  const causes: StatusCause[] = [];
  for (const key of root.required) {
    if (owned(part, key) && out[key] === undefined) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: key });
  }
  for (const [key, item] of Object.entries(out)) {
    const child = owned(part, key) ? childSchema(root, key) : undefined;
    if (child) causes.push(...validate(item, child, key, old?.[key]));
  }
  return { object: out, causes };
}

/**
 * The structural-schema rules a CRD's openAPIV3Schema must meet to be accepted: a type on every node
 * (except int-or-string and preserve-unknown-fields nodes) and properties or additionalProperties, not both.
 */
export function structuralErrors(schema: JsonValue, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const walk = (node: JsonValue, at: string, where: 'root' | 'field' | 'item'): void => {
    if (!isJsonObject(node)) {
      causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: must be an object', field: at });
      return;
    }
    const exempt = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
    if ((typeof node['type'] !== 'string' || node['type'] === '') && !exempt) {
      const why = where === 'root' ? 'at the root' : where === 'field' ? 'for specified object fields' : 'for specified array items';
      causes.push({ reason: 'FieldValueRequired', message: `Required value: must not be empty ${why}`, field: `${at}.type` });
    }
    const props = node['properties'];
    const additional = node['additionalProperties'];
    if (isJsonObject(props) && Object.keys(props).length > 0 && additional !== undefined && additional !== null) {
      causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: additionalProperties and properties are mutual exclusive', field: `${at}.additionalProperties` });
    }
    if (isJsonObject(props)) for (const [key, child] of Object.entries(props)) walk(child, `${at}.properties[${key}]`, 'field');
    if (isJsonObject(additional)) walk(additional, `${at}.additionalProperties`, 'field');
    const items = node['items'];
    if (items !== undefined && items !== null) walk(items, `${at}.items`, 'item');
  };
  walk(schema, path, 'root');
  return causes;
}
