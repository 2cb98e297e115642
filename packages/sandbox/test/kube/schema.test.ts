import { describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/kube/json.ts';
import { admit, applyDefaults, prune, structuralErrors, toStructural, validate } from '../../src/kube/schema.ts';

/** An IPAMBlock-like schema, as controller-gen would write it. */
const root = toStructural({
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['cidr', 'blockSize'],
      properties: {
        cidr: { type: 'string', format: 'cidr' },
        blockSize: { type: 'integer', format: 'int32', minimum: 1, maximum: 32 },
        mode: { type: 'string', enum: ['local', 'global'], default: 'local' },
        allocations: { type: 'array', items: { type: 'integer', nullable: true } },
        attributes: { type: 'array', items: { type: 'object', properties: { handle: { type: 'string' } } } },
        block: { type: 'object', additionalProperties: { type: 'integer' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
        port: { 'x-kubernetes-int-or-string': true },
        comment: { type: 'string', nullable: true },
        note: { type: 'string' },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
        name: { type: 'string', maxLength: 5, minLength: 2, pattern: '^[a-z]+$' },
        tags: { type: 'array', maxItems: 2, minItems: 1, items: { type: 'string' } },
      },
    },
    status: { type: 'object', properties: { allocated: { type: 'integer' } } },
  },
});

function specSchema() {
  const spec = root.properties?.get('spec');
  if (!spec) throw new Error('no spec schema');
  return spec;
}

describe('prune', () => {
  test('drops undeclared fields at every level, in objects, arrays and maps', () => {
    const pruned = prune({
      cidr: '10.0.0.0/24', bogus: 1,
      attributes: [{ handle: 'h', secret: 'x' }],
      block: { a: 1, b: 2 },
    }, specSchema());
    expect(pruned).toEqual({ cidr: '10.0.0.0/24', attributes: [{ handle: 'h' }], block: { a: 1, b: 2 } });
  });

  test('x-kubernetes-preserve-unknown-fields keeps unknown fields, but declared ones are still pruned inside', () => {
    const pruned = prune({ extra: { anything: { deep: [1, { x: 2 }] }, known: { a: 'kept', b: 'gone' } } }, specSchema());
    expect(pruned).toEqual({ extra: { anything: { deep: [1, { x: 2 }] }, known: { a: 'kept' } } });
  });

  test('embedded resources keep apiVersion, kind and metadata', () => {
    const pruned = prune({ template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', whatever: 1 }, spec: {}, other: 1 } }, specSchema());
    expect(pruned).toEqual({ template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', whatever: 1 }, spec: {} } });
  });

  test('leaves a value of the wrong type for validation to reject', () => {
    expect(prune({ block: 'not a map' }, specSchema())).toEqual({ block: 'not a map' });
  });

  test('does not modify its input', () => {
    const input: JsonObject = { cidr: 'x', bogus: 1 };
    prune(input, specSchema());
    expect(input).toEqual({ cidr: 'x', bogus: 1 });
  });
});

describe('applyDefaults', () => {
  test('fills missing fields and non-nullable nulls that have a default; drops other non-nullable nulls', () => {
    expect(applyDefaults({ cidr: 'x' }, specSchema())).toEqual({ cidr: 'x', mode: 'local' });
    expect(applyDefaults({ mode: null, note: null, comment: null }, specSchema())).toEqual({ mode: 'local', comment: null });
  });

  test('does not create a missing parent object', () => {
    const schema = toStructural({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string', default: 'x' } } } } });
    expect(applyDefaults({}, schema)).toEqual({});
    expect(applyDefaults({ a: {} }, schema)).toEqual({ a: { b: 'x' } });
  });
});

describe('validate', () => {
  test('a wrong type names the field and the JSON type, as the apiserver words it', () => {
    expect(validate({ cidr: '10.0.0.0/24', blockSize: 'big' }, specSchema(), 'spec')).toEqual([{
      reason: 'FieldValueTypeInvalid',
      field: 'spec.blockSize',
      message: 'Invalid value: "string": spec.blockSize in body must be of type integer: "string"',
    }]);
    expect(validate({ cidr: '10.0.0.0/24', blockSize: 1.5 }, specSchema(), 'spec')[0]?.message).toBe(
      'Invalid value: "number": spec.blockSize in body must be of type integer: "number"');
  });

  test('required fields', () => {
    expect(validate({}, specSchema(), 'spec')).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.cidr' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.blockSize' },
    ]);
  });

  test('enum, minimum and maximum', () => {
    const causes = validate({ cidr: '10.0.0.0/24', blockSize: 33, mode: 'other' }, specSchema(), 'spec');
    expect(causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.blockSize', message: 'Invalid value: 33: spec.blockSize in body should be less than or equal to 32' },
      { reason: 'FieldValueNotSupported', field: 'spec.mode', message: 'Unsupported value: "other": supported values: "local", "global"' },
    ]);
    expect(validate({ cidr: '10.0.0.0/24', blockSize: 0 }, specSchema(), 'spec')[0]?.message).toBe(
      'Invalid value: 0: spec.blockSize in body should be greater than or equal to 1');
  });

  test('null is only valid where nullable', () => {
    const base = { cidr: '10.0.0.0/24', blockSize: 26 };
    expect(validate({ ...base, comment: null }, specSchema(), 'spec')).toEqual([]);
    expect(validate({ ...base, note: null }, specSchema(), 'spec')).toEqual([{
      reason: 'FieldValueTypeInvalid', field: 'spec.note', message: 'Invalid value: "null": spec.note in body must be of type string: "null"',
    }]);
    expect(validate({ ...base, allocations: [1, null, 3] }, specSchema(), 'spec')).toEqual([]);
  });

  test('array items and map values get their index and key in the path', () => {
    const causes = validate({ cidr: '10.0.0.0/24', blockSize: 26, allocations: [1, 'x'], block: { h1: 1, h2: 'y' } }, specSchema(), 'spec');
    expect(causes.map((c) => c.field)).toEqual(['spec.allocations[1]', 'spec.block.h2']);
  });

  test('int-or-string takes integers and strings only', () => {
    const base = { cidr: '10.0.0.0/24', blockSize: 26 };
    expect(validate({ ...base, port: 80 }, specSchema(), 'spec')).toEqual([]);
    expect(validate({ ...base, port: 'http' }, specSchema(), 'spec')).toEqual([]);
    expect(validate({ ...base, port: true }, specSchema(), 'spec').map((c) => c.field)).toEqual(['spec.port']);
  });

  test('string length, pattern and format; array length', () => {
    const causes = validate({ cidr: '10.0.0.0', blockSize: 26, name: 'TOOLONG', tags: ['a', 'b', 'c'] }, specSchema(), 'spec');
    expect(causes).toEqual([
      { reason: 'FieldValueTypeInvalid', field: 'spec.cidr', message: 'Invalid value: "10.0.0.0": spec.cidr in body must be of type cidr: "10.0.0.0"' },
      { reason: 'FieldValueTooLong', field: 'spec.name', message: 'Too long: may not be more than 5 bytes' },
      { reason: 'FieldValueInvalid', field: 'spec.name', message: 'Invalid value: "TOOLONG": spec.name in body should match \'^[a-z]+$\'' },
      { reason: 'FieldValueTooMany', field: 'spec.tags', message: 'Too many: 3: must have at most 2 items' },
    ]);
  });

  test('format int32 on an integer is a hint the apiserver does not range-check', () => {
    const schema = toStructural({ type: 'integer', format: 'int32' });
    expect(validate(2 ** 40, schema, 'spec.n')).toEqual([]);
  });

  test('ratcheting: an unchanged invalid subtree passes an update', () => {
    const old = { cidr: '10.0.0.0/24', blockSize: 'legacy' };
    expect(validate({ ...old, mode: 'global' }, specSchema(), 'spec', old)).toEqual([]);
    expect(validate({ ...old, blockSize: 'changed' }, specSchema(), 'spec', old).map((c) => c.field)).toEqual(['spec.blockSize']);
  });
});

describe('admit', () => {
  const obj = {
    apiVersion: 'example.com/v1', kind: 'Block',
    metadata: { name: 'b', labels: { a: 'b' }, unknownMeta: 1 },
    spec: { cidr: '10.0.0.0/24', blockSize: 26, bogus: true },
    status: { allocated: 3, bogus: true },
    topLevel: 'gone',
  };

  test('prunes and defaults everything a create owns; apiVersion, kind and metadata stay as they are', () => {
    const { object, causes } = admit(obj, root, 'all');
    expect(causes).toEqual([]);
    expect(object).toEqual({
      apiVersion: 'example.com/v1', kind: 'Block',
      metadata: { name: 'b', labels: { a: 'b' }, unknownMeta: 1 },
      spec: { cidr: '10.0.0.0/24', blockSize: 26, mode: 'local' },
      status: { allocated: 3 },
    });
  });

  test('a status write touches only status; a main write all but status', () => {
    expect(admit(obj, root, 'status').object).toEqual({ ...obj, status: { allocated: 3 } });
    expect(admit(obj, root, 'main').object).toEqual({
      apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata,
      spec: { cidr: '10.0.0.0/24', blockSize: 26, mode: 'local' },
      status: obj.status,
    });
  });

  test('root-level required fields and validation paths start at the root', () => {
    const schema = toStructural({ type: 'object', required: ['spec'], properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } });
    expect(admit({ apiVersion: 'v', kind: 'k', metadata: {} }, schema, 'all').causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec' }]);
    expect(admit({ spec: { n: 'x' } }, schema, 'all').causes.map((c) => c.field)).toEqual(['spec.n']);
    // A status write is not held to the spec's rules.
    expect(admit({ status: {} }, schema, 'status').causes).toEqual([]);
  });
});

describe('structuralErrors', () => {
  test('accepts what controller-gen writes', () => {
    expect(structuralErrors({
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { m: { type: 'object', additionalProperties: { type: 'integer' } }, raw: { 'x-kubernetes-preserve-unknown-fields': true }, port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } },
        list: { type: 'array', items: { type: 'string' } },
      },
    }, 'schema')).toEqual([]);
  });

  test('a node without type, or with properties and additionalProperties, is not structural', () => {
    expect(structuralErrors({ properties: { spec: { properties: { a: { type: 'string' } } }, list: { type: 'array', items: {} }, both: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } }, 's')).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value: must not be empty at the root', field: 's.type' },
      { reason: 'FieldValueRequired', message: 'Required value: must not be empty for specified object fields', field: 's.properties[spec].type' },
      { reason: 'FieldValueRequired', message: 'Required value: must not be empty for specified array items', field: 's.properties[list].items.type' },
      { reason: 'FieldValueForbidden', message: 'Forbidden: additionalProperties and properties are mutual exclusive', field: 's.properties[both].additionalProperties' },
    ]);
  });
});
