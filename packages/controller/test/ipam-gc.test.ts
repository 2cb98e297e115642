import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleOrdinals } from '@hostnic/ipam';
import type { LivePod } from '@hostnic/ipam';
import { putVxNetPool, seedVxnets, startHarness, VXNET } from './harness.ts';
import type { Harness } from './harness.ts';
import { reconcilers } from './reconcilers.ts';
import type { Reconcilers } from './reconcilers.ts';
import { IpamGarbageCollector } from '../src/cleanup/ipam-gc.ts';

let h: Harness;
let r: Reconcilers;
beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
  putVxNetPool(h.kube, [VXNET], 27);
  r = reconcilers(h);
  expect((await r.settle())?.ready).toBe(true);
  await h.store.setIpamConfig({ ipam: JSON.stringify({ Default: [VXNET] }) });
});
afterEach(async () => {
  await h.close();
});

const HOUR_AGO = new Date(Date.now() - 3_600_000);

async function holds(handleId: string): Promise<number> {
  let n = 0;
  for (const b of await h.store.listBlocks()) n += handleOrdinals(b.object.spec, handleId).length;
  return n;
}

describe('IPAM garbage collection', () => {
  let live: LivePod[];
  let exists: Set<string>;
  const gc = (options: { synced?: () => boolean } = {}): IpamGarbageCollector =>
    new IpamGarbageCollector({
      ipam: r.ipam,
      livePods: () => (options.synced?.() === false ? undefined : live),
      podExists: (ns, name) => Promise.resolve(exists.has(`${ns}/${name}`)),
      events: h.events,
      graceMs: 60_000,
    });

  beforeEach(async () => {
    for (const pod of ['alive', 'gone', 'young', 'racy']) {
      await r.ipam.allocate({ handleId: `default-${pod}-c1`, namespace: 'default', pod, node: 'node-1', now: pod === 'young' ? new Date() : HOUR_AGO });
    }
    live = [{ namespace: 'default', name: 'alive' }];
    exists = new Set(['default/alive', 'default/racy']);
  });

  it('releases only what two checks agree on, past the grace period, and only for pods really gone', async () => {
    const collector = gc();
    const first = await collector.run();
    expect(first.repaired).toBeUndefined();
    expect(first.findings.filter((f) => f.kind === 'DeadPodAllocation')).toHaveLength(3);
    expect(await holds('default-gone-c1')).toBe(1);

    const second = await collector.run();
    expect(second.spared).toEqual(['default-racy-c1']);
    expect(second.repaired?.released.map((x) => x.handleId)).toEqual(['default-gone-c1']);
    expect(await holds('default-gone-c1')).toBe(0);
    expect(await h.store.getHandle('default-gone-c1')).toBeUndefined();
    expect(await holds('default-alive-c1')).toBe(1);
    expect(await holds('default-young-c1')).toBe(1);
    expect(await holds('default-racy-c1')).toBe(1);
    expect(h.events.list.find((e) => e.reason === 'LeakedAddressReleased')?.message).toContain('default/gone');
    expect(collector.totals.released).toBe(1);
  });

  it('does nothing while the pod cache is not synced', async () => {
    const collector = gc({ synced: () => false });
    expect((await collector.run()).skipped).toMatch(/not synced/);
    expect((await collector.run()).skipped).toMatch(/not synced/);
    expect(await holds('default-gone-c1')).toBe(1);
  });

  it('lets a pod that reappears between checks keep its address', async () => {
    const collector = gc();
    await collector.run();
    live = [...live, { namespace: 'default', name: 'gone' }];
    const second = await collector.run();
    expect(second.repaired?.released ?? []).toEqual([]);
    expect(await holds('default-gone-c1')).toBe(1);
  });

  it('deletes a handle that holds nothing and corrects a miscounted one', async () => {
    await h.store.createHandle({ metadata: { name: 'default-orphan-c9' }, spec: { handleID: 'default-orphan-c9', block: { '4100-172.16.3.0/27': 2 }, deleted: false } });
    const alive = await h.store.getHandle('default-alive-c1');
    if (alive === undefined) throw new Error('missing handle');
    const key = Object.keys(alive.object.spec.block)[0] ?? '';
    await h.store.updateHandle({ ...alive.object, spec: { ...alive.object.spec, block: { [key]: 3 } } }, alive.version);
    live = [{ namespace: 'default', name: 'alive' }, { namespace: 'default', name: 'gone' }, { namespace: 'default', name: 'young' }, { namespace: 'default', name: 'racy' }];
    const collector = gc();
    await collector.run();
    const second = await collector.run();
    expect(second.repaired?.deletedHandles).toEqual(['default-orphan-c9']);
    expect(second.repaired?.updatedHandles).toEqual(['default-alive-c1']);
    expect((await h.store.getHandle('default-alive-c1'))?.object.spec.block).toEqual({ [key]: 1 });
  });

  it('collects the address claim of a node that is gone, and leaves a live node\'s claim alone', async () => {
    live = [{ namespace: 'default', name: 'alive' }, { namespace: 'default', name: 'gone' }, { namespace: 'default', name: 'young' }, { namespace: 'default', name: 'racy' }];
    for (const node of ['node-1', 'node-9']) {
      const claimed = await r.ipam.claim(node, { kind: 'pools', names: [VXNET] }, 3);
      expect(claimed).toHaveLength(3);
    }
    const collector = new IpamGarbageCollector({
      ipam: r.ipam,
      livePods: () => live,
      liveNodes: () => ['node-1'],
      podExists: () => Promise.resolve(true),
      events: h.events,
      graceMs: 60_000,
    });
    const first = await collector.run();
    expect(first.findings.filter((f) => f.kind === 'DeadNodeClaim')).toHaveLength(1);
    const second = await collector.run();
    expect(second.repaired?.deletedHandles).toEqual(['claim.node-9']);
    expect(await r.ipam.claimOf('node-9')).toEqual([]);
    expect(await r.ipam.claimOf('node-1')).toHaveLength(3);
    expect(h.events.list.map((e) => e.message).filter((m) => m.includes('node node-9'))).toHaveLength(1);
  });
});
