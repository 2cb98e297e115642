import { describe, expect, it } from 'vitest';
import { compareCrds, type Crd, type SchemaNode } from '../src/crd-compat.ts';
import { DEPLOY_MANIFEST, FROZEN_CRDS, readCrds } from '../src/freeze-crds.ts';
import { REPO_ROOT } from './fixture-repo.ts';

it('deploy/hostnic.yaml only adds to the CRDs of the previous release', async () => {
  const previous = await readCrds(REPO_ROOT, FROZEN_CRDS);
  const current = await readCrds(REPO_ROOT, DEPLOY_MANIFEST);
  expect(previous.map((c) => c.metadata.name).sort()).toEqual([
    'ipamblocks.network.qingcloud.com',
    'ipamhandles.network.qingcloud.com',
    'ippools.network.qingcloud.com',
    'vxnetpools.network.qingcloud.com',
  ]);
  expect(compareCrds(previous, current)).toEqual([]);
});

describe('compareCrds', () => {
  const crd = (spec: SchemaNode, versions: Partial<Crd['spec']['versions'][number]> = {}): Crd => ({
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.example.com' },
    spec: { versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec } } }, ...versions }] },
  });
  const base: SchemaNode = {
    type: 'object',
    required: ['cidr'],
    properties: {
      cidr: { type: 'string' },
      mode: { type: 'string', enum: ['a', 'b'] },
      blocks: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
  };
  const where = 'things.example.com/v1';

  it('accepts new optional fields, new required fields with a default, and wider enums', () => {
    const next: SchemaNode = {
      ...base,
      required: ['cidr', 'size'],
      properties: {
        ...base.properties,
        size: { type: 'integer', default: 26 },
        note: { type: 'string' },
        mode: { type: 'string', enum: ['a', 'b', 'c'] },
      },
    };
    expect(compareCrds([crd(base)], [crd(next)])).toEqual([]);
  });

  it('names each removed field, type change, narrowed enum and new required field without default', () => {
    const next: SchemaNode = {
      type: 'object',
      required: ['cidr', 'owner'],
      properties: {
        cidr: { type: 'integer' },
        mode: { type: 'string', enum: ['a'] },
        owner: { type: 'string' },
        blocks: { type: 'array', items: { type: 'object', properties: {} } },
      },
    };
    expect(compareCrds([crd(base)], [crd(next)])).toEqual([
      { where: `${where} .spec.cidr`, problem: 'type changed from string to integer' },
      { where: `${where} .spec.mode`, problem: 'enum no longer allows "b"' },
      { where: `${where} .spec.blocks[].name`, problem: 'field removed' },
      { where: `${where} .spec.owner`, problem: 'newly required without a default: objects of the previous release lack it' },
    ]);
  });

  it('refuses a removed CRD and a version no longer served', () => {
    expect(compareCrds([crd(base)], [])).toEqual([{ where: 'things.example.com', problem: 'CRD removed' }]);
    expect(compareCrds([crd(base)], [crd(base, { served: false })])).toEqual([{ where, problem: 'version no longer served' }]);
  });
});
