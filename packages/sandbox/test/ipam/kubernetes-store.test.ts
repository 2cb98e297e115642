import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam, podRangeOfVxnet, newIPPool, StoreCallCounter, blockUtilisation } from '@hostnic/ipam';
import { storeContractCases } from '@hostnic/ipam/testing';
import { mapping, startKubeRig, type KubeRig } from './helpers.ts';

let rig: KubeRig;
beforeEach(async () => {
  rig = await startKubeRig();
});
afterEach(async () => {
  await rig.close();
});

describe('the store contract, against the fake kube-apiserver over HTTP', () => {
  for (const c of storeContractCases()) {
    it(c.name, async () => {
      await c.run(rig.store());
    });
  }
});

describe('the allocator on CRDs', () => {
  const range = podRangeOfVxnet({
    vxnetId: 'vxnet-abc1234',
    ipNetwork: '172.16.3.0/24',
    managerIp: '172.16.3.1',
    dynIpStart: '172.16.3.2',
    dynIpEnd: '172.16.3.254',
    tunnelType: 'vxlan',
  });

  it('creates the spec example: one IPPool, 8 blocks named by CIDR, owned by the pool', async () => {
    const store = rig.store();
    await new Ipam(store).ensurePool(newIPPool(range, 27));
    const blocks = rig.server.list('ipamblocks').map((b) => (b as { metadata: { name: string } }).metadata.name);
    expect(blocks.sort()).toEqual(
      [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `4100-172-16-3-${o}-27`).sort(),
    );
    const first = rig.server.get('ipamblocks', '4100-172-16-3-0-27') as unknown as {
      metadata: { labels: Record<string, string>; ownerReferences: { kind: string; name: string }[] };
      spec: { unallocated: number[]; attributes: { handle_id: string }[] };
    };
    expect(first.metadata.labels['ippool.network.qingcloud.com/name']).toBe('vxnet-abc1234');
    expect(first.metadata.ownerReferences[0]).toMatchObject({ kind: 'IPPool', name: 'vxnet-abc1234' });
    expect(first.spec.unallocated).toHaveLength(30);
    expect(first.spec.attributes[0]?.handle_id).toBe('kubesphere-reserved-handle');
  });

  it('allocates with 2 API writes (handle, block), releases with 2, and leaves the spec numbers', async () => {
    const store = rig.store();
    await new Ipam(store).ensurePool(newIPPool(range, 27));
    await store.setIpamConfig(mapping({ Default: ['vxnet-abc1234'], test: ['4100-172-16-3-0-27'] }));
    const counter = new StoreCallCounter();
    const ipam = new Ipam(store, { onWrite: counter.onWrite, cooldownMs: 0 });
    rig.server.clearRequestLog();
    const a = await ipam.allocate({ handleId: 'test-nginx-abc123', namespace: 'test', pod: 'nginx', node: 'node-1' });
    expect(a).toMatchObject({ address: '172.16.3.2', addressWithPrefix: '172.16.3.2/27', pool: 'vxnet-abc1234', reused: false });
    const writes = rig.server.requestLog().filter((r) => ['create', 'update', 'delete', 'patch'].includes(r.verb ?? ''));
    expect(writes.map((w) => `${w.verb} ${w.resource}`)).toEqual(['create ipamhandles', 'update ipamblocks']);
    const handle = rig.server.get('ipamhandles', 'test-nginx-abc123') as { spec: unknown };
    expect(handle.spec).toEqual({ handleID: 'test-nginx-abc123', block: { '4100-172.16.3.0/27': 1 }, deleted: false });

    // A repeated ADD for the same container gets the same address and writes nothing.
    expect((await ipam.allocate({ handleId: 'test-nginx-abc123', namespace: 'test', pod: 'nginx', node: 'node-1' })).reused).toBe(true);

    rig.server.clearRequestLog();
    expect((await ipam.release('test-nginx-abc123')).map((h) => h.address)).toEqual(['172.16.3.2']);
    const releaseWrites = rig.server.requestLog().filter((r) => ['create', 'update', 'delete', 'patch'].includes(r.verb ?? ''));
    expect(releaseWrites.map((w) => `${w.verb} ${w.resource}`)).toEqual(['update ipamblocks', 'delete ipamhandles']);
    expect(rig.server.get('ipamhandles', 'test-nginx-abc123')).toBeUndefined();
    const block = (await store.getBlock('4100-172-16-3-0-27'))!.object;
    expect(blockUtilisation(block.spec)).toMatchObject({ capacity: 32, reserved: 2, allocated: 0, unallocated: 30 });
  });

  it('retries through 409s injected by the apiserver', async () => {
    const store = rig.store();
    await new Ipam(store).ensurePool(newIPPool(range, 27));
    await store.setIpamConfig(mapping({ Default: ['vxnet-abc1234'] }));
    const undo = rig.server.faults.conflictOn({ verb: 'update', resource: 'ipamblocks' }, { times: 3 });
    const ipam = new Ipam(store, { backoff: { baseMs: 1, maxMs: 5 } });
    const a = await ipam.allocate({ handleId: 'default-web-1', namespace: 'default', pod: 'web', node: 'node-1' });
    undo();
    expect(a.pool).toBe('vxnet-abc1234');
    const conflicts = rig.server.requestLog().filter((r) => r.resource === 'ipamblocks' && r.status === 409);
    expect(conflicts).toHaveLength(3);
    expect(await ipam.addressesOf('default-web-1')).toHaveLength(1);
  });
});
