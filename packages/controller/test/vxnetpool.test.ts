import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FINALIZER_IPPOOL, isBlockEmpty } from '@hostnic/ipam';
import type { IPPool, IpamStore } from '@hostnic/ipam';
import { IPPoolReconciler } from '../src/ippool/reconciler.ts';
import { fencedStore } from '../src/resources/fenced-store.ts';
import { openFence } from '../src/fence.ts';
import { putPod, putVxNetPool, seedVxnets, startHarness, VXNET } from './harness.ts';
import type { Harness } from './harness.ts';
import { reconcilers } from './reconcilers.ts';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
});
afterEach(async () => {
  await h.close();
});

const BLOCKS_27 = [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `4100-172-16-3-${o}-27`);

async function poolOf(name: string): Promise<IPPool | undefined> {
  return (await h.store.getPool(name))?.object;
}

function statusWrites(): number {
  return h.kube.requestLog().filter((e) => e.verb === 'update' && e.resource === 'vxnetpools' && e.subresource === 'status').length;
}

describe('VxNetPool v-pool from the seed README (blockSize 27)', () => {
  it('pins the pod range with VIPs, adds the security-group rule, creates the IPPool and 8 blocks, then reports ready', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-qke1' });
    h.fake.addCluster({ cluster_id: 'cl-qke1', security_group_id: sg.security_group_id });
    putVxNetPool(h.kube, [VXNET], 27);
    const r = reconcilers(h, { clusterId: 'cl-qke1' });

    const first = await r.vxnetPool.sync('v-pool');
    expect(first?.ready).toBe(false);
    expect(h.kube.get('vxnetpools', 'v-pool')?.['status']).toMatchObject({ ready: false });

    const result = await r.settle();
    expect(result?.ready).toBe(true);

    const vips = h.fake.vips().filter((v) => v.vxnet_id === VXNET);
    expect(vips).toHaveLength(241);
    expect(new Set(vips.map((v) => v.vip_name))).toEqual(new Set([`hostnic_${VXNET}`]));
    expect(vips.map((v) => v.vip_addr).sort()).toContain('172.16.3.242');
    expect(vips.map((v) => v.vip_addr)).not.toContain('172.16.3.243');
    const allocate = h.fake.requests({ action: 'AllocateVips' });
    expect(allocate).toHaveLength(1);
    expect(allocate[0]?.params).toMatchObject({ vxnet_id: VXNET, vip_name: `hostnic_${VXNET}`, vip_range: '172.16.3.2-172.16.3.242', count: '241' });

    const rules = h.fake.securityGroupRules().filter((x) => x.security_group_id === 'sg-qke1');
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ security_group_rule_name: `hostnic_${VXNET}`, action: 'accept', direction: 0, priority: 0, protocol: 'all', val3: '172.16.3.0/24' });

    const pool = await poolOf(VXNET);
    expect(pool?.spec).toMatchObject({ type: 'local', cidr: '172.16.3.0/24', gateway: '172.16.3.1', rangeStart: '172.16.3.2', rangeEnd: '172.16.3.242', blockSize: 27, vlanConfig: { vlanId: 0, master: '' } });
    expect(pool?.metadata.labels).toMatchObject({ controller: VXNET, 'ippool.network.qingcloud.com/name': VXNET, 'ippool.network.qingcloud.com/type': 'local', 'ippool.network.qingcloud.com/id': '4100' });
    expect((pool?.metadata as { finalizers?: string[] }).finalizers).toEqual([FINALIZER_IPPOOL]);
    expect(pool?.status).toMatchObject({ capacity: 256, allocations: 0, unallocated: 241, reserved: 15, synced: true });

    const blocks = (await h.store.listBlocks({ pool: VXNET })).map((b) => b.object);
    expect(blocks.map((b) => b.metadata.name).sort()).toEqual([...BLOCKS_27].sort());
    const first27 = blocks.find((b) => b.metadata.name === BLOCKS_27[0]);
    expect(first27?.spec.unallocated).toHaveLength(30);
    expect(first27?.spec.attributes[0]?.handle_id).toBe('kubesphere-reserved-handle');
    const owner = (first27?.metadata as { ownerReferences?: { kind: string; name: string; controller: boolean }[] }).ownerReferences;
    expect(owner?.[0]).toMatchObject({ kind: 'IPPool', name: VXNET, controller: true });

    const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready: boolean; pools: { name: string; ippool: string; subnets: string[] }[]; conditions: { type: string; status: string }[] };
    expect(status.ready).toBe(true);
    expect(status.pools).toEqual([{ name: VXNET, ippool: VXNET, subnets: BLOCKS_27 }]);
    expect(status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(h.events.reasons()).toContain('VxnetReady');
    expect(h.events.reasons()).toContain('IPPoolCreated');
  });

  it('is idempotent across a restart: no second VIP set, rule or block, and ready is never written false', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-static' });
    putVxNetPool(h.kube, [VXNET], 27);
    expect((await reconcilers(h, { securityGroup: sg.security_group_id }).settle())?.ready).toBe(true);
    const vipsBefore = h.fake.vips().length;
    const writesBefore = statusWrites();

    // A new process: empty caches.
    const again = reconcilers(h, { securityGroup: sg.security_group_id });
    const result = await again.vxnetPool.sync('v-pool');
    for (const pool of await h.store.listPools()) await again.ippool.sync(pool.object.metadata.name);
    expect(result?.ready).toBe(true);
    expect(statusWrites()).toBe(writesBefore);
    expect(h.fake.vips().length).toBe(vipsBefore);
    expect(h.fake.requests({ action: 'AllocateVips' })).toHaveLength(1);
    expect(h.fake.requests({ action: 'AddSecurityGroupRules' })).toHaveLength(1);
    expect(h.fake.securityGroupRules().filter((x) => x.security_group_id === sg.security_group_id)).toHaveLength(1);
    expect(await h.store.listBlocks()).toHaveLength(8);
  });

  it('applies the security group at the next start when a run was killed between adding the rule and applying it', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-killed' });
    putVxNetPool(h.kube, [VXNET], 27);
    // A SIGKILL: the run stops at the step and never goes on (its promise stays pending).
    let killedAt!: (step: string) => void;
    const hit = new Promise<string>((r) => (killedAt = r));
    const killed = reconcilers(h, {
      securityGroup: sg.security_group_id,
      failpoint: (step) => {
        if (step !== 'sg-rule:added') return undefined;
        killedAt(step);
        return new Promise<void>(() => undefined);
      },
    });
    void killed.settle();
    expect(await hit).toBe('sg-rule:added');
    const group = (): { is_applied: number } | undefined => h.fake.securityGroups().find((g) => g.security_group_id === sg.security_group_id);
    expect(group()?.is_applied).toBe(0);
    expect(h.fake.requests({ action: 'ApplySecurityGroup' })).toHaveLength(0);

    const again = reconcilers(h, { securityGroup: sg.security_group_id });
    expect((await again.settle())?.ready).toBe(true);
    await vi.waitFor(() => expect(group()?.is_applied).toBe(1), { timeout: 20_000 });
    expect(h.fake.requests({ action: 'AddSecurityGroupRules' })).toHaveLength(1);
    expect(h.fake.requests({ action: 'ApplySecurityGroup' })).toHaveLength(1);
    expect(h.fake.securityGroupRules().filter((x) => x.security_group_id === sg.security_group_id)).toHaveLength(1);
  });

  it('skips the security-group rule on clusters that are not QKE', async () => {
    putVxNetPool(h.kube, [VXNET], 26);
    expect((await reconcilers(h).settle())?.ready).toBe(true);
    expect(h.fake.requests({ action: 'AddSecurityGroupRules' })).toHaveLength(0);
    expect(h.fake.requests({ action: 'DescribeSecurityGroupRules' })).toHaveLength(0);
    expect(await h.store.listBlocks({ pool: VXNET })).toHaveLength(4);
  });

  it('keeps ready false, with a reason, for a vxnet missing in the IaaS, and handles the others', async () => {
    putVxNetPool(h.kube, [VXNET, 'vxnet-missing1'], 27);
    const r = reconcilers(h);
    const result = await r.settle(30);
    expect(result?.ready).toBe(false);
    expect(result?.preps.find((p) => p.vxnetId === 'vxnet-missing1')?.reason).toBe('VxnetNotFound');
    expect(await poolOf(VXNET)).toBeDefined();
    const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready: boolean; pools: { name: string; subnets?: string[] }[]; conditions: { type: string; status: string; reason: string; message: string }[] };
    expect(status.ready).toBe(false);
    expect(status.pools.map((p) => p.name)).toEqual([VXNET, 'vxnet-missing1']);
    expect(status.pools[0]?.subnets).toHaveLength(8);
    const ready = status.conditions.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'VxnetNotFound' });
    expect(ready?.message).toContain('vxnet-missing1');
    expect(h.events.list.filter((e) => e.reason === 'VxnetNotFound')).toHaveLength(1);
  });

  it('applies customReservedIPCount to VLAN vxnets and names the valid range when it is out of it', async () => {
    h.fake.addVxnet({
      vxnet_id: 'vxnet-vlan001',
      tunnel_type: 'vlan',
      router: { router_id: 'rtr-1', manager_ip: '192.168.10.1', ip_network: '192.168.10.0/24', dyn_ip_start: '192.168.10.2', dyn_ip_end: '192.168.10.254' },
    });
    putVxNetPool(h.kube, ['vxnet-vlan001'], 26, { customReservedIPCount: 10 });
    const r = reconcilers(h);
    expect((await r.settle())?.ready).toBe(true);
    expect((await poolOf('vxnet-vlan001'))?.spec).toMatchObject({ rangeStart: '192.168.10.2', rangeEnd: '192.168.10.208', customReservedIPCount: 10 });
    expect(h.fake.vips().filter((v) => v.vxnet_id === 'vxnet-vlan001')).toHaveLength(207);

    putVxNetPool(h.kube, ['vxnet-vlan001'], 26, { customReservedIPCount: 217 });
    r.preparer.invalidate();
    const bad = await r.vxnetPool.sync('v-pool');
    expect(bad?.ready).toBe(false);
    expect(bad?.preps[0]).toMatchObject({ reason: 'VxnetInvalid' });
    expect(bad?.preps[0]?.message).toMatch(/customReservedIPCount.*0~216/);
  });

  it('ignores VxNetPools not named v-pool', async () => {
    h.kube.put('vxnetpools', { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'VxNetPool', metadata: { name: 'other' }, spec: { vxnets: [{ name: VXNET }], blockSize: 27 } });
    const r = reconcilers(h);
    expect(await r.vxnetPool.sync('other')).toBeUndefined();
    expect(h.fake.requests({ action: 'DescribeVxNets' })).toHaveLength(0);
    expect(await h.store.listPools()).toHaveLength(0);
  });

  it('refuses a block size that does not fit the vxnet, naming the field', async () => {
    putVxNetPool(h.kube, [VXNET], 20);
    const result = await reconcilers(h).settle(3);
    expect(result?.ready).toBe(false);
    const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { conditions: { type: string; reason: string; message: string }[] };
    const ready = status.conditions.find((c) => c.type === 'Ready');
    expect(ready?.reason).toBe('InvalidBlockSize');
    expect(ready?.message).toContain('spec.blockSize');
    expect(await h.store.listPools()).toHaveLength(0);
  });

  it('reports a malformed spec as a condition and an event instead of failing', async () => {
    h.kube.put('vxnetpools', { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'VxNetPool', metadata: { name: 'v-pool' }, spec: { vxnets: 'vxnet-abc1234', blockSize: 27 } });
    const result = await reconcilers(h).vxnetPool.sync('v-pool');
    expect(result?.ready).toBe(false);
    const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { conditions: { type: string; reason: string; message: string }[] };
    expect(status.conditions[0]).toMatchObject({ type: 'Ready', reason: 'InvalidSpec' });
    expect(status.conditions[0]?.message).toContain('spec.vxnets');
    expect(h.events.reasons()).toEqual(['InvalidSpec']);
  });
});

describe('IaaS faults delay readiness but never corrupt the state', () => {
  it('busy answers, a failed AllocateVips job, a failing DescribeVxNets and slow answers end in exactly one VIP set', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    h.fake.faults.add({ action: 'DescribeVxNets', retCode: 5000, times: 4 });
    h.fake.faults.add({ action: 'AllocateVips', retCode: 5100, times: 3 });
    h.fake.faults.add({ action: 'AllocateVips', job: 'fail', times: 1 });
    h.fake.faults.add({ action: 'DescribeVips', latencyMs: 30, times: 5 });
    const r = reconcilers(h);
    const result = await r.settle();
    expect(result?.ready).toBe(true);
    const vips = h.fake.vips().filter((v) => v.vxnet_id === VXNET);
    expect(vips).toHaveLength(241);
    expect(new Set(vips.map((v) => v.vip_addr)).size).toBe(241);
    expect(await h.store.listBlocks()).toHaveLength(8);
    expect(h.events.reasons()).toContain('VipsFailed');
  });

  it('stays ready through an IaaS outage once the pool is complete', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const r = reconcilers(h);
    expect((await r.settle())?.ready).toBe(true);
    const writes = statusWrites();
    const fresh = reconcilers(h);
    h.fake.faults.add({ action: 'DescribeVxNets', httpStatus: 503 });
    h.fake.faults.add({ action: 'DescribeVips', httpStatus: 503 });
    const result = await fresh.vxnetPool.sync('v-pool');
    expect(result?.ready).toBe(true);
    expect(result?.preps[0]?.reason).toBe('IaasError');
    expect(statusWrites()).toBe(writes);
  });
});

describe('a vxnet removed from spec.vxnets is drained', () => {
  it('disables its pool while addresses are in use, then gives back VIPs and the rule and deletes the pool', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-drain' });
    putVxNetPool(h.kube, [VXNET, 'vxnet-def5678'], 27);
    const r = reconcilers(h, { securityGroup: sg.security_group_id });
    expect((await r.settle())?.ready).toBe(true);
    await h.store.setIpamConfig({ ipam: JSON.stringify({ Default: ['vxnet-def5678'] }) });
    const a = await r.ipam.allocate({ handleId: 'default-web-abc', namespace: 'default', pod: 'web', node: 'node-1' });
    expect(a.pool).toBe('vxnet-def5678');

    putVxNetPool(h.kube, [VXNET], 27);
    let result = await r.vxnetPool.sync('v-pool');
    expect(result?.draining).toEqual(['vxnet-def5678']);
    expect((await poolOf('vxnet-def5678'))?.spec.disabled).toBe(true);
    await expect(r.ipam.allocate({ handleId: 'default-web2-abc', namespace: 'default', pod: 'web2', node: 'node-1' })).rejects.toThrow();
    const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready: boolean; conditions: { type: string; status: string }[] };
    expect(status.ready).toBe(true);
    expect(status.conditions.find((c) => c.type === 'Draining')?.status).toBe('True');
    expect(h.fake.vips().filter((v) => v.vxnet_id === 'vxnet-def5678')).toHaveLength(241);

    await r.ipam.release('default-web-abc');
    result = await r.settle();
    expect(result?.draining).toEqual([]);
    for (let i = 0; i < 50 && (await poolOf('vxnet-def5678')) !== undefined; i++) {
      await r.ippool.sync('vxnet-def5678');
      await new Promise((x) => setTimeout(x, 20));
    }
    expect(await poolOf('vxnet-def5678')).toBeUndefined();
    expect(await h.store.listBlocks({ pool: 'vxnet-def5678' })).toHaveLength(0);
    expect(h.fake.vips().filter((v) => v.vxnet_id === 'vxnet-def5678')).toHaveLength(0);
    expect(h.fake.securityGroupRules().filter((x) => x.security_group_rule_name === 'hostnic_vxnet-def5678')).toHaveLength(0);
    expect(h.fake.vips().filter((v) => v.vxnet_id === VXNET)).toHaveLength(241);
    const after = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { conditions: { type: string }[] };
    expect(after.conditions.map((c) => c.type)).not.toContain('Draining');
    expect(h.events.reasons()).toEqual(expect.arrayContaining(['VxnetDraining', 'VxnetRemoved', 'IPPoolDeleted']));
  });
});

describe('blocks created under running pods', () => {
  it('mark the addresses the pods use as allocated, to their handles', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const r = reconcilers(h, {
      pods: () => [
        { namespace: 'default', name: 'web', ip: '172.16.3.40', node: 'node-1' },
        { namespace: 'default', name: 'db', ip: '172.16.3.41', node: 'node-2' },
      ],
    });
    await h.store.createHandle({ metadata: { name: 'default-web-0123abcd' }, spec: { handleID: 'default-web-0123abcd', block: {}, deleted: false } });
    expect((await r.settle())?.ready).toBe(true);
    const block = (await h.store.getBlock('4100-172-16-3-32-27'))?.object;
    expect(block).toBeDefined();
    const owners = [8, 9].map((o) => block?.spec.attributes[block.spec.allocations[o] ?? -1]?.handle_id);
    expect(owners).toEqual(['default-web-0123abcd', 'default-db-recovered']);
    expect(block?.spec.unallocated).not.toContain(8);
    expect(isBlockEmpty(block?.spec ?? { allocations: [], attributes: [] } as never)).toBe(false);
    expect(h.events.reasons()).toContain('AddressesRecovered');
  });

  it('wait for the pod cache before creating blocks', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    putPod(h.kube, 'default', 'web', '172.16.3.40');
    let synced = false;
    const r = reconcilers(h, { pods: () => (synced ? [{ namespace: 'default', name: 'web', ip: '172.16.3.40', node: 'node-1' }] : undefined) });
    const result = await r.settle(5);
    expect(result?.ready).toBe(false);
    expect(await h.store.listBlocks()).toHaveLength(0);
    synced = true;
    expect((await r.settle())?.ready).toBe(true);
    expect(await h.store.listBlocks()).toHaveLength(8);
  });
});

describe('IPPool status', () => {
  it('counts blocks a lagging list has not seen yet, by reading them', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const r = reconcilers(h);
    expect((await r.settle())?.ready).toBe(true);
    // A list that, like a cache still filling, shows one block of eight; the status must not count the other
    // seven blocks' reserved addresses as free.
    const lagging: IpamStore = { ...fencedStore(h.store, openFence), listBlocks: async (o) => (await h.store.listBlocks(o)).slice(0, 1) };
    const pool = await h.store.getPool(VXNET);
    if (pool === undefined) throw new Error('no pool');
    await h.store.updatePoolStatus(VXNET, { capacity: 0, allocations: 0, unallocated: 0 }, pool.version);
    await new IPPoolReconciler({ store: lagging, events: h.events }).sync(VXNET);
    expect((await poolOf(VXNET))?.status).toMatchObject({ capacity: 256, allocations: 0, unallocated: 241, reserved: 15 });
  });
});

describe('IPPool deletion', () => {
  it('disables the pool, deletes its empty blocks and keeps the finalizer until the last address is released', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const r = reconcilers(h);
    expect((await r.settle())?.ready).toBe(true);
    await h.store.setIpamConfig({ ipam: JSON.stringify({ Default: [VXNET] }) });
    const a = await r.ipam.allocate({ handleId: 'default-nginx-abc123', namespace: 'default', pod: 'nginx', node: 'node-1' });
    await r.ippool.sync(VXNET);
    expect((await poolOf(VXNET))?.status).toMatchObject({ capacity: 256, allocations: 1, unallocated: 240, reserved: 15 });

    await h.store.deletePool(VXNET);
    const res = await r.ippool.sync(VXNET);
    expect(res.finalized).toBe(false);
    expect(res.deletedBlocks).toHaveLength(7);
    const pool = await poolOf(VXNET);
    expect(pool?.spec.disabled).toBe(true);
    expect((pool?.metadata as { finalizers?: string[] }).finalizers).toEqual([FINALIZER_IPPOOL]);
    expect((await h.store.listBlocks({ pool: VXNET })).map((b) => b.object.metadata.name)).toEqual([a.block]);

    await r.ipam.release('default-nginx-abc123');
    expect((await r.ippool.sync(VXNET)).finalized).toBe(true);
    expect(await poolOf(VXNET)).toBeUndefined();
    expect(await h.store.listBlocks()).toHaveLength(0);
  });
});
