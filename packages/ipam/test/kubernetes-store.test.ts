import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConflictError,
  Ipam,
  NotFoundError,
  StoreRejectedError,
  StoreUnavailableError,
} from '../src/index.ts';
import { KubernetesIpamStore } from '../src/stores/kubernetes/index.ts';
import { storeContractCases } from '../src/testing/index.ts';
import { B, examplePool, mapping, pod, POOL } from './ipam-helpers.ts';
import { KubeApiDouble } from './kube-double.ts';

function open(api = new KubeApiDouble(), pageSize = 3): { api: KubeApiDouble; store: KubernetesIpamStore } {
  const store = new KubernetesIpamStore(api, { pageSize, retry: { attempts: 4 }, sleep: async () => {} });
  return { api, store };
}

describe('store contract: kubernetes (client-node API double)', () => {
  for (const c of storeContractCases()) {
    it(c.name, async () => {
      const { store } = open();
      await c.run(store);
    });
  }
});

describe('kubernetes store', () => {
  it('writes the CRD shapes: apiVersion, kind, owner reference of blocks, resourceVersion on update', async () => {
    const { api, store } = open();
    const ipam = new Ipam(store);
    await ipam.ensurePool(examplePool());
    const pool = api.raw('ippools', POOL);
    expect(pool).toMatchObject({ apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPPool', metadata: { name: POOL } });
    const block = api.raw('ipamblocks', B(0));
    expect(block).toMatchObject({
      apiVersion: 'network.qingcloud.com/v1alpha1',
      kind: 'IPAMBlock',
      metadata: {
        name: B(0),
        labels: { 'ippool.network.qingcloud.com/name': POOL },
        ownerReferences: [
          { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPPool', name: POOL, uid: (pool?.metadata as { uid: string }).uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: { id: 4100, cidr: '172.16.3.0/27', deleted: false },
    });
    await store.setIpamConfig(mapping({ default: [B(0)] }));
    const a = await ipam.allocate(pod('default-nginx-abc123'));
    expect(a.address).toBe('172.16.3.2');
    expect(api.raw('ipamhandles', 'default-nginx-abc123')).toMatchObject({
      kind: 'IPAMHandle',
      spec: { handleID: 'default-nginx-abc123', block: { '4100-172.16.3.0/27': 1 }, deleted: false },
    });
    // Server-side metadata read back is kept on writes (uid and owner references survive the update).
    expect((api.raw('ipamblocks', B(0))?.metadata as { ownerReferences?: unknown[] }).ownerReferences).toHaveLength(1);
  });

  it('lists blocks by pool label across pages', async () => {
    const { api, store } = open(undefined, 3);
    await new Ipam(store).ensurePool(examplePool());
    api.requests.length = 0;
    expect((await store.listBlocks({ pool: POOL })).length).toBe(8);
    expect(api.requests).toEqual(['list ipamblocks', 'list ipamblocks', 'list ipamblocks']);
    expect((await store.listBlocks({ pool: 'vxnet-other' })).length).toBe(0);
  });

  it('retries transient failures (network, 429, 5xx), then reports StoreUnavailable', async () => {
    const { api, store } = open();
    api.fail('get', { network: true });
    api.fail('get', { status: 503 });
    api.fail('get', { status: 429 });
    expect(await store.getHandle('nobody')).toBeUndefined();
    api.fail('get', { status: 500 }, 4);
    const error = await store.getHandle('nobody').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain('HTTP 500');
  });

  it('does not retry other statuses: 403 is StoreRejected', async () => {
    const { api, store } = open();
    api.fail('create', { status: 403 });
    await expect(store.createHandle({ metadata: { name: 'h1' }, spec: { handleID: 'h1', block: {}, deleted: false } })).rejects.toBeInstanceOf(
      StoreRejectedError,
    );
    expect(api.requests.filter((r) => r.startsWith('create'))).toHaveLength(1);
  });

  it('resolves a write retried after an ambiguous failure by reading it back', async () => {
    const { api, store } = open();
    const handle = { metadata: { name: 'h1' }, spec: { handleID: 'h1', block: { '4100-172.16.3.0/27': 1 }, deleted: false } };
    api.fail('create', { applyThenStatus: 504 });
    const created = await store.createHandle(handle);
    expect(created.object.spec).toEqual(handle.spec);
    const next = { ...handle, spec: { ...handle.spec, block: { '4100-172.16.3.0/27': 2 } } };
    api.fail('replace', { applyThenStatus: 504 });
    const updated = await store.updateHandle(next, created.version);
    expect(updated.object.spec).toEqual(next.spec);
    api.fail('delete', { applyThenStatus: 504 });
    await store.deleteHandle('h1', updated.version);
    expect(await store.getHandle('h1')).toBeUndefined();
  });

  it('a genuine conflict after a retried write is still a conflict', async () => {
    const { api, store } = open();
    const handle = { metadata: { name: 'h1' }, spec: { handleID: 'h1', block: {}, deleted: false } };
    const v1 = await store.createHandle(handle);
    await store.updateHandle({ ...handle, spec: { ...handle.spec, block: { k: 1 } } }, v1.version);
    api.fail('replace', { status: 502 });
    await expect(store.updateHandle({ ...handle, spec: { ...handle.spec, block: { k: 5 } } }, v1.version)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(store.createHandle(handle)).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('finishes off objects the Go version marked deleted, with the version as precondition', async () => {
    const { api, store } = open();
    api.put('ipamhandles', { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPAMHandle', metadata: { name: 'old' }, spec: { handleID: 'old', block: {}, deleted: true } });
    expect(await store.getHandle('old')).toBeUndefined();
    expect(api.raw('ipamhandles', 'old')).toBeUndefined();
    expect(api.requests).toContain('delete old');
  });

  it('setIpamConfig creates the ConfigMap, then replaces it; with a version it is a compare-and-swap', async () => {
    const { store } = open();
    expect(await store.getIpamConfig()).toBeUndefined();
    await expect(store.setIpamConfig({ ipam: '{}' }, '1')).rejects.toBeInstanceOf(NotFoundError);
    const v1 = await store.setIpamConfig({ ipam: '{}' });
    const v2 = await store.setIpamConfig({ ipam: '{"Default":["vxnet-a"]}' }, v1.version);
    await expect(store.setIpamConfig({ ipam: '{}' }, v1.version)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getIpamConfig())?.version).toBe(v2.version);
  });

  it('runs the allocator end to end, with concurrent allocations conflicting on resourceVersion', async () => {
    const { store } = open();
    const ipam = new Ipam(store, { sleep: async () => {} });
    await ipam.ensurePool(examplePool());
    await store.setIpamConfig(mapping({ default: [B(0)] }));
    const results = await Promise.all(['h1', 'h2', 'h3', 'h4'].map((h) => ipam.allocate(pod(h))));
    expect(new Set(results.map((r) => r.address)).size).toBe(4);
    for (const h of ['h1', 'h2', 'h3', 'h4']) await ipam.release(h);
    expect(await store.listHandles()).toEqual([]);
  });
});

describe('kubernetes store list cache seam', () => {
  it('lists from the cache when it answers, from the API when it does not, and hands out copies', async () => {
    const api = new KubeApiDouble();
    const seeding = new KubernetesIpamStore(api, { sleep: async () => {} });
    await new Ipam(seeding).ensurePool(examplePool());
    const cachedBlock = api.raw('ipamblocks', B(0));
    let synced = false;
    const store = new KubernetesIpamStore(api, {
      sleep: async () => {},
      listCache: { list: (plural, selector) => (synced && plural === 'ipamblocks' && selector !== undefined ? [cachedBlock] : undefined) },
    });
    api.requests.length = 0;
    expect(await store.listBlocks({ pool: POOL })).toHaveLength(8);
    expect(api.requests).toEqual(['list ipamblocks']);
    synced = true;
    api.requests.length = 0;
    const listed = await store.listBlocks({ pool: POOL });
    expect(listed.map((v) => v.object.metadata.name)).toEqual([B(0)]);
    expect(api.requests).toEqual([]);
    (listed[0]?.object.spec.unallocated as number[]).length = 0;
    expect((cachedBlock?.spec as { unallocated: number[] }).unallocated).toHaveLength(30);
  });
});
