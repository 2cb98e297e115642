import type { JsonObject, JsonValue } from './json.ts';

/**
 * Decodes the Kubernetes protobuf bodies kubectl's imperative commands send (`kubectl create namespace`,
 * `create configmap`, `create secret generic`, `create serviceaccount` write through typed clients, which
 * encode built-in kinds as protobuf) into the JSON the rest of the fake works on. Only those kinds are
 * described; any other is refused with a message naming it, so a gap shows as an error rather than as a
 * silently emptied object.
 */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The body is not valid Kubernetes protobuf, or holds a kind this decoder has no description of. */
export class ProtobufError extends Error {
  /** `unsupported`: well-formed, but of a kind not described here. */
  readonly reason: 'malformed' | 'unsupported';

  constructor(message: string, reason: 'malformed' | 'unsupported' = 'malformed') {
    super(message);
    this.name = 'ProtobufError';
    this.reason = reason;
  }
}

type FieldType = 'string' | 'bytes' | 'int64' | 'bool' | 'time' | 'stringMap' | 'bytesMap' | MessageSchema;

interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly repeated?: boolean;
}

interface MessageSchema {
  readonly fields: Readonly<Record<number, Field>>;
}

/** One field of the wire format: its number and raw value (a varint, or the bytes of a length-delimited field). */
interface WireField {
  readonly number: number;
  readonly value: bigint | Buffer;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let pos = at;
  for (;;) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const byte = buf[pos] ?? 0;
    pos += 1;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw new ProtobufError('varint longer than 64 bits');
  }
}

function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    pos = afterKey;
    switch (wireType) {
      case 0: {
        const [value, next] = readVarint(buf, pos);
        out.push({ number, value });
        pos = next;
        break;
      }
      case 1: // 64-bit and 32-bit fixed values: no field of the described kinds uses them; skipped.
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const [length, next] = readVarint(buf, pos);
        const end = next + Number(length);
        if (end > buf.length) throw new ProtobufError(`field ${number} runs past the end of the message`);
        out.push({ number, value: buf.subarray(next, end) });
        pos = end;
        break;
      }
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} of field ${number}`);
    }
  }
  if (pos !== buf.length) throw new ProtobufError('message ends inside a fixed-width field');
  return out;
}

function bytesOf(field: WireField): Buffer {
  if (!Buffer.isBuffer(field.value)) throw new ProtobufError(`field ${field.number}: length-delimited value expected`);
  return field.value;
}

function varintOf(field: WireField): bigint {
  if (Buffer.isBuffer(field.value)) throw new ProtobufError(`field ${field.number}: varint expected`);
  return field.value;
}

/** A map entry: key 1, value 2. */
function mapEntry(field: WireField): [string, Buffer] {
  let key = '';
  let value: Buffer = Buffer.alloc(0);
  for (const f of readFields(bytesOf(field))) {
    if (f.number === 1) key = bytesOf(f).toString('utf8');
    if (f.number === 2) value = bytesOf(f);
  }
  return [key, value];
}

function decodeValue(type: Exclude<FieldType, 'stringMap' | 'bytesMap'>, field: WireField): JsonValue {
  switch (type) {
    case 'string': return bytesOf(field).toString('utf8');
    case 'bytes': return bytesOf(field).toString('base64');
    case 'int64': return Number(BigInt.asIntN(64, varintOf(field)));
    case 'bool': return varintOf(field) !== 0n;
    case 'time': {
      // metav1.Time: seconds (1) and nanos (2); the JSON form has second precision, and the zero time is absent.
      const seconds = readFields(bytesOf(field)).find((f) => f.number === 1);
      const value = seconds === undefined ? 0 : Number(varintOf(seconds));
      return value === 0 ? null : new Date(value * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    default: return decodeMessage(type, bytesOf(field));
  }
}

function decodeMessage(schema: MessageSchema, buf: Buffer): JsonObject {
  const out: JsonObject = {};
  for (const field of readFields(buf)) {
    const desc = schema.fields[field.number];
    if (!desc) continue; // Fields the fake does not keep (managedFields, status details) are dropped, as pruning would.
    if (desc.type === 'stringMap' || desc.type === 'bytesMap') {
      const map = (out[desc.name] ?? {}) as JsonObject;
      const [key, value] = mapEntry(field);
      map[key] = desc.type === 'stringMap' ? value.toString('utf8') : value.toString('base64');
      out[desc.name] = map;
    } else if (desc.repeated) {
      const list = (out[desc.name] ?? []) as JsonValue[];
      list.push(decodeValue(desc.type, field));
      out[desc.name] = list;
    } else {
      // gogo-protobuf writes every scalar, JSON omits the empty ones (omitempty): drop them to match.
      const value = decodeValue(desc.type, field);
      if (value !== null && value !== '' && !(desc.type === 'int64' && value === 0)) out[desc.name] = value;
    }
  }
  return out;
}

const OWNER_REFERENCE: MessageSchema = {
  fields: {
    1: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' },
    5: { name: 'apiVersion', type: 'string' }, 6: { name: 'controller', type: 'bool' }, 7: { name: 'blockOwnerDeletion', type: 'bool' },
  },
};

const OBJECT_META: MessageSchema = {
  fields: {
    1: { name: 'name', type: 'string' }, 2: { name: 'generateName', type: 'string' }, 3: { name: 'namespace', type: 'string' },
    5: { name: 'uid', type: 'string' }, 6: { name: 'resourceVersion', type: 'string' }, 7: { name: 'generation', type: 'int64' },
    8: { name: 'creationTimestamp', type: 'time' }, 11: { name: 'labels', type: 'stringMap' }, 12: { name: 'annotations', type: 'stringMap' },
    13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true }, 14: { name: 'finalizers', type: 'string', repeated: true },
  },
};

const OBJECT_REFERENCE: MessageSchema = { fields: { 1: { name: 'kind', type: 'string' }, 2: { name: 'namespace', type: 'string' }, 3: { name: 'name', type: 'string' } } };
const LOCAL_OBJECT_REFERENCE: MessageSchema = { fields: { 1: { name: 'name', type: 'string' } } };

/** Kinds by `apiVersion/kind`, with the field numbers of k8s.io/api's generated.proto. */
const KINDS: Readonly<Record<string, MessageSchema>> = {
  'v1/Namespace': {
    fields: {
      1: { name: 'metadata', type: OBJECT_META },
      2: { name: 'spec', type: { fields: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
    },
  },
  'v1/ConfigMap': {
    fields: {
      1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: 'stringMap' }, 3: { name: 'binaryData', type: 'bytesMap' },
      4: { name: 'immutable', type: 'bool' },
    },
  },
  'v1/Secret': {
    fields: {
      1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: 'bytesMap' }, 3: { name: 'type', type: 'string' },
      4: { name: 'stringData', type: 'stringMap' }, 5: { name: 'immutable', type: 'bool' },
    },
  },
  'v1/ServiceAccount': {
    fields: {
      1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'secrets', type: OBJECT_REFERENCE, repeated: true },
      3: { name: 'imagePullSecrets', type: LOCAL_OBJECT_REFERENCE, repeated: true }, 4: { name: 'automountServiceAccountToken', type: 'bool' },
    },
  },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * `k8s\0` + runtime.Unknown{typeMeta (1: apiVersion 1, kind 2), raw (2)} → the object as JSON, with
 * apiVersion and kind set from the envelope.
 */
export function decodeKubernetesProtobuf(body: Buffer): JsonObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError('the body does not start with the Kubernetes protobuf magic "k8s\\0"');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  for (const field of readFields(body.subarray(MAGIC.length))) {
    if (field.number === 1) {
      for (const f of readFields(bytesOf(field))) {
        if (f.number === 1) apiVersion = bytesOf(f).toString('utf8');
        if (f.number === 2) kind = bytesOf(f).toString('utf8');
      }
    } else if (field.number === 2) {
      raw = bytesOf(field);
    }
  }
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema) {
    throw new ProtobufError(`protobuf bodies of ${apiVersion || '?'} ${kind || '?'} are not supported by this fake apiserver; send JSON (Content-Type: application/json)`, 'unsupported');
  }
  return { apiVersion, kind, ...decodeMessage(schema, raw ?? Buffer.alloc(0)) };
}
