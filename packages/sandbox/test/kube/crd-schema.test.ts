import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, Watch, loadAllYaml } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from 'vitest';
import { registerHostnicCrds, startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer, KubeObject } from '../../src/kube/index.ts';
import { apiError, eventually, field, isRecord, mergePatch } from './helpers.ts';

/** A CRD as controller-gen writes it, placeholder status included. */
const BLOCKS_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: blocks.example.com
spec:
  group: example.com
  names: {kind: Block, listKind: BlockList, plural: blocks, singular: block}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [cidr, blockSize]
            properties:
              cidr: {type: string}
              blockSize: {type: integer, format: int32, minimum: 1}
              mode: {type: string, enum: [local, global], default: local}
              allocations:
                type: array
                items: {type: integer, nullable: true}
              attributes:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              allocated: {type: integer}
status:
  acceptedNames: {kind: "", plural: ""}
  conditions: []
  storedVersions: []
`;

const blocks = { group: 'example.com', version: 'v1', plural: 'blocks' };

function block(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'example.com/v1', kind: 'Block', metadata: { name }, spec, ...extra };
}

function crdFrom(text: string): KubeObject {
  const [doc]: unknown[] = loadAllYaml(text);
  if (!isRecord(doc)) throw new Error('manifest is not an object');
  return doc as KubeObject;
}

let server: FakeKubeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<{ s: FakeKubeApiServer; kc: KubeConfig; custom: CustomObjectsApi }> {
  const s = await startFakeKubeApiServer();
  server = s;
  // client-node's loadAllYaml gives typed models (x_kubernetes_preserve_unknown_fields): taken as well.
  s.applyCrdManifest(crdFrom(BLOCKS_CRD));
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig());
  return { s, kc, custom: kc.makeApiClient(CustomObjectsApi) };
}

describe('custom resources under a structural schema', () => {
  test('create prunes undeclared fields silently and applies defaults; get, list and watch see the pruned object', async () => {
    const { s, kc, custom } = await start();
    const events: unknown[] = [];
    const watch = await new Watch(kc).watch('/apis/example.com/v1/blocks', {}, (_type, obj) => events.push(obj), () => undefined);
    await eventually(() => s.activeWatches === 1);

    const created = await custom.createClusterCustomObject({
      ...blocks,
      body: block('b1', { cidr: '172.16.3.0/27', blockSize: 27, bogus: 'x', attributes: { node: 'n1', nested: { any: [1] } } }, { topLevel: 1 }),
    });
    const expected = { cidr: '172.16.3.0/27', blockSize: 27, mode: 'local', attributes: { node: 'n1', nested: { any: [1] } } };
    expect(field(created, 'spec')).toEqual(expected);
    expect(field(created, 'topLevel')).toBeUndefined();
    expect(field(await custom.getClusterCustomObject({ ...blocks, name: 'b1' }), 'spec')).toEqual(expected);
    const list = await custom.listClusterCustomObject(blocks);
    expect(field(list, 'items')).toEqual([expect.objectContaining({ spec: expected })]);
    await eventually(() => events.length === 1);
    expect(field(events[0], 'spec')).toEqual(expected);
    expect(s.get('blocks', 'b1')?.['spec']).toEqual(expected);
    watch.abort();
  });

  test('status writes are pruned too; a main write still ignores status', async () => {
    const { custom } = await start();
    const created = await custom.createClusterCustomObject({ ...blocks, body: block('b1', { cidr: '10.0.0.0/27', blockSize: 27 }, { status: { allocated: 9 } }) });
    expect(field(created, 'status')).toBeUndefined();

    const withStatus = { ...(created as Record<string, unknown>), status: { allocated: 3, leakedField: true } };
    const replaced = await custom.replaceClusterCustomObjectStatus({ ...blocks, name: 'b1', body: withStatus });
    expect(field(replaced, 'status')).toEqual({ allocated: 3 });
    const patched = await custom.patchClusterCustomObjectStatus({ ...blocks, name: 'b1', body: { status: { allocated: 4, other: 'x' } } }, mergePatch);
    expect(field(patched, 'status')).toEqual({ allocated: 4 });

    const main = await custom.patchClusterCustomObject({ ...blocks, name: 'b1', body: { spec: { blockSize: 28 }, status: { allocated: 100 } } }, mergePatch);
    expect(field(main, 'spec.blockSize')).toBe(28);
    expect(field(main, 'status')).toEqual({ allocated: 4 });
  });

  test('a patch that only adds undeclared fields changes nothing: same resourceVersion', async () => {
    const { custom } = await start();
    const created = await custom.createClusterCustomObject({ ...blocks, body: block('b1', { cidr: '10.0.0.0/27', blockSize: 27 }) });
    const patched = await custom.patchClusterCustomObject({ ...blocks, name: 'b1', body: { spec: { notInSchema: true } } }, mergePatch);
    expect(field(patched, 'spec.notInSchema')).toBeUndefined();
    expect(field(patched, 'metadata.resourceVersion')).toBe(field(created, 'metadata.resourceVersion'));
  });

  test('a wrong type is refused with 422 naming the field, as the apiserver words it', async () => {
    const { custom } = await start();
    const wrong = await apiError(custom.createClusterCustomObject({ ...blocks, body: block('b1', { cidr: '10.0.0.0/27', blockSize: '27' }) }));
    expect(wrong.code).toBe(422);
    expect(wrong.body).toMatchObject({
      reason: 'Invalid',
      message: 'Block.example.com "b1" is invalid: spec.blockSize: Invalid value: "string": spec.blockSize in body must be of type integer: "string"',
      details: {
        name: 'b1', group: 'example.com', kind: 'Block',
        causes: [{ reason: 'FieldValueTypeInvalid', field: 'spec.blockSize', message: 'Invalid value: "string": spec.blockSize in body must be of type integer: "string"' }],
      },
    });

    await custom.createClusterCustomObject({ ...blocks, body: block('b1', { cidr: '10.0.0.0/27', blockSize: 27 }) });
    const badPatch = await apiError(custom.patchClusterCustomObject({ ...blocks, name: 'b1', body: { spec: { mode: 'elsewhere', allocations: [1, null, 'x'] } } }, mergePatch));
    expect(badPatch.code).toBe(422);
    expect(field(badPatch.body, 'details.causes')).toEqual([
      { reason: 'FieldValueNotSupported', field: 'spec.mode', message: 'Unsupported value: "elsewhere": supported values: "local", "global"' },
      { reason: 'FieldValueTypeInvalid', field: 'spec.allocations[2]', message: 'Invalid value: "string": spec.allocations[2] in body must be of type integer: "string"' },
    ]);
    const badStatus = await apiError(custom.patchClusterCustomObjectStatus({ ...blocks, name: 'b1', body: { status: { allocated: 'many' } } }, mergePatch));
    expect(field(badStatus.body, 'details.causes')).toEqual([expect.objectContaining({ field: 'status.allocated' })]);
  });

  test('missing required fields are refused', async () => {
    const { custom } = await start();
    const missing = await apiError(custom.createClusterCustomObject({ ...blocks, body: block('b1', { blockSize: 27 }) }));
    expect(missing.code).toBe(422);
    expect(missing.body['message']).toBe('Block.example.com "b1" is invalid: spec.cidr: Required value');
    expect(field(missing.body, 'details.causes')).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.cidr' }]);
  });

  test('a CRD created through the API (as kubectl apply does) is enforced; updating it changes the rules', async () => {
    const s = await startFakeKubeApiServer();
    server = s;
    const kc = new KubeConfig();
    kc.loadFromString(s.kubeconfig());
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const [model]: unknown[] = loadAllYaml(BLOCKS_CRD);
    const crd = await ext.createCustomResourceDefinition({ body: model as V1CustomResourceDefinition });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');

    const created = await custom.createClusterCustomObject({ ...blocks, body: block('b1', { cidr: '10.0.0.0/27', blockSize: 27, extra: 1 }) });
    expect(field(created, 'spec.extra')).toBeUndefined();

    // Declaring the field lets it through from then on.
    const props = crd.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.['spec']?.properties;
    if (!props) throw new Error('no spec properties');
    props['extra'] = { type: 'integer' };
    await ext.replaceCustomResourceDefinition({ name: 'blocks.example.com', body: crd });
    const patched = await custom.patchClusterCustomObject({ ...blocks, name: 'b1', body: { spec: { extra: 2 } } }, mergePatch);
    expect(field(patched, 'spec.extra')).toBe(2);
  });

  test('a schema that is not structural is refused', async () => {
    const s = await startFakeKubeApiServer();
    server = s;
    const text = BLOCKS_CRD.replace('cidr: {type: string}', 'cidr: {description: no type}');
    const notStructural = (() => {
      try {
        s.applyCrdManifest(crdFrom(text));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(notStructural).toMatchObject({
      code: 422,
      message: 'CustomResourceDefinition.apiextensions.k8s.io "blocks.example.com" is invalid: spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[cidr].type: Required value: must not be empty for specified object fields',
    });
    const kc = new KubeConfig();
    kc.loadFromString(s.kubeconfig());
    const [model]: unknown[] = loadAllYaml(text);
    const viaApi = await apiError(kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: model as V1CustomResourceDefinition }));
    expect(viaApi.code).toBe(422);
  });

  test('CRDs whose root preserves unknown fields (registerHostnicCrds) keep storing anything', async () => {
    const s = await startFakeKubeApiServer();
    server = s;
    registerHostnicCrds(s);
    const kc = new KubeConfig();
    kc.loadFromString(s.kubeconfig());
    const created = await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ipamhandles',
      body: { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPAMHandle', metadata: { name: 'h' }, spec: { anything: { goes: [1] } }, more: true },
    });
    expect(field(created, 'spec')).toEqual({ anything: { goes: [1] } });
    expect(field(created, 'more')).toBe(true);
  });
});
