import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findLinksByMac } from '@hostnic/netlink';
import { NicError, NicTimeoutError, NoFreeNicError } from '../../src/nics/index.ts';
import { VXNET_A, VXNET_B, VXNET_VLAN, actions, isRoot, nodeState, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

describe.skipIf(!isRoot)('NicManager.ensureNic against the sandbox', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('creates, attaches and sets up a NIC on first use, then reuses it without IaaS calls', async () => {
    const tag = h.sandbox.qingcloud.addTag({ tag_name: 'hostnic' });
    const manager = h.manager({ tagId: tag.tag_id });
    const started = performance.now();
    const nic = await manager.ensureNic(VXNET_A);
    const coldMs = performance.now() - started;
    console.log(`cold ensureNic: ${coldMs.toFixed(0)} ms`);

    expect(nic).toMatchObject({ phase: 'Succeeded', routeTable: 260, bridge: 'br_260', linkName: 'hostnic_pods001' });
    expect(nic.nicId).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
    expect(await h.store.getNic(nic.nicId)).toMatchObject({ phase: 'Succeeded', routeTable: 260 });
    expect(h.store.intents.size).toBe(0);

    const fake = h.sandbox.qingcloud;
    const calls = actions(fake);
    // The DescribeNics is the client's duplicate guard before CreateNics (same vxnet and name).
    expect(calls.filter((a) => a !== 'DescribeJobs')).toEqual(['DescribeNics', 'CreateNics', 'AttachTags', 'AttachNics']);
    expect(fake.requests({ action: 'DescribeNics' })[0]?.params).toMatchObject({ nic_name: `hostnic_${h.instanceId}` });
    expect(calls).toContain('DescribeJobs');
    const create = fake.requests({ action: 'CreateNics' })[0];
    expect(create?.params).toMatchObject({ vxnet: VXNET_A.vxnetId, count: '1', disable_ip: '1', nic_name: `hostnic_${h.instanceId}` });
    expect(fake.requests({ action: 'AttachNics' })[0]?.params).toMatchObject({ 'nics.1': nic.nicId, instance: h.instanceId });
    expect(fake.nics().find((n) => n.nic_id === nic.nicId)).toMatchObject({ status: 'in-use', instance_id: h.instanceId });
    expect(fake.tags().find((t) => t.tag_id === tag.tag_id)?.resource_tag_pairs).toEqual(
      expect.arrayContaining([expect.objectContaining({ resource_id: nic.nicId, resource_type: 'nic' })]),
    );

    const state = await nodeState(h, 260);
    const link = state.links.find((l) => l.name === 'hostnic_pods001');
    expect(link?.master).toBe('br_260');
    expect(link?.mac).toBe(nic.nicId);
    expect(state.links.find((l) => l.name === 'br_260')?.kind).toBe('bridge');
    expect(state.routes.filter((r) => r.table === 260).map((r) => r.dst).sort()).toEqual(['0.0.0.0/0', '172.16.3.0/24']);
    expect(state.routes.find((r) => r.table === 260 && r.dst === '0.0.0.0/0')?.gateway).toBe('172.16.3.1');
    expect(state.rules.filter((r) => r.priority === 1536)).toEqual([expect.objectContaining({ src: '172.16.3.0/24', table: 260 })]);

    const before = fake.requests().length;
    const again = await manager.ensureNic(VXNET_A);
    expect(again.nicId).toBe(nic.nicId);
    expect(fake.requests().length).toBe(before);
  });

  it('gives two vxnets in parallel tables 260 and 261, and a vlan vxnet an empty table', async () => {
    const manager = h.manager();
    const [a, b] = await Promise.all([manager.ensureNic(VXNET_A), manager.ensureNic(VXNET_B)]);
    expect([a.routeTable, b.routeTable].sort()).toEqual([260, 261]);
    expect(a.nicId).not.toBe(b.nicId);
    const vlan = await manager.ensureNic(VXNET_VLAN);
    expect(vlan.routeTable).toBe(262);
    const state = await nodeState(h, 262);
    expect(state.routes.filter((r) => r.table === 262)).toEqual([]);
    expect(state.rules.filter((r) => r.priority === 1536 && r.table === 262)).toHaveLength(1);
  });

  it('creates one NIC for concurrent callers of one vxnet', async () => {
    const manager = h.manager();
    const results = await Promise.all([1, 2, 3, 4].map(() => manager.ensureNic(VXNET_A)));
    expect(new Set(results.map((r) => r.nicId)).size).toBe(1);
    expect(h.sandbox.qingcloud.requests({ action: 'CreateNics' })).toHaveLength(1);
  });

  it('skips tables the kernel already uses', async () => {
    await h.sandbox.exec('node-1', ['ip', 'route', 'add', 'blackhole', '10.9.9.0/24', 'table', '260']);
    const nic = await h.manager().ensureNic(VXNET_A);
    expect(nic.routeTable).toBe(261);
  });

  it('fails with a typed error when maxNic is reached', async () => {
    const manager = h.manager({ maxNic: 1 });
    await manager.ensureNic(VXNET_A);
    const err = await manager.ensureNic(VXNET_B).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoFreeNicError);
    expect((err as Error).message).toBe('no free nic: maxNic 1 reached');
    expect(h.sandbox.qingcloud.requests({ action: 'CreateNics' })).toHaveLength(1);
  });

  it('deletes the NIC and leaves no record when the attach job fails', async () => {
    const fake = h.sandbox.qingcloud;
    fake.faults.add({ action: 'AttachNics', job: 'fail', times: 1 });
    const manager = h.manager();
    const err = await manager.ensureNic(VXNET_A).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NicError);
    expect((err as NicError).step).toBe('attach');
    expect((err as Error).message).toMatch(/^attach of NIC 52:54:[0-9a-f:]+ to i-[a-z0-9]+: job j-\S+ failed/);
    const created = fake.requests({ action: 'CreateNics' })[0];
    expect(created).toBeDefined();
    expect(fake.nics().filter((n) => n.nic_name === `hostnic_${h.instanceId}`)).toEqual([]);
    expect(h.store.nics.size).toBe(0);
    expect(h.store.intents.size).toBe(0);
    // The table is free again: the next NIC gets 260.
    const nic = await manager.ensureNic(VXNET_A);
    expect(nic.routeTable).toBe(260);
  });

  it('bounds an attach job that never finishes', async () => {
    const fake = h.sandbox.qingcloud;
    fake.faults.add({ action: 'AttachNics', job: 'stuck', times: 1 });
    const manager = h.manager({ attachTimeoutMs: 300 });
    const err = await manager.ensureNic(VXNET_A).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NicTimeoutError);
    expect((err as Error).message).toMatch(/^attach of NIC 52:54:[0-9a-f:]+ to i-[a-z0-9]+ did not finish within 0\.3 s/);
    expect(h.store.nics.size).toBe(0);
    // The NIC is locked by the stuck job, so it cannot be deleted yet: a release intent stays for reconcile.
    const left = [...h.store.intents.values()];
    expect(left.map((i) => i.kind)).toEqual(['release-nic']);
  });

  it('bounds the wait for a link that never appears, and cleans up', async () => {
    // An instance the sandbox has no namespace for: the attach succeeds, no link ever shows up in node-1.
    const fake = h.sandbox.qingcloud;
    const ghost = fake.addInstance({ vxnet_id: 'vxnet-mgmt001' });
    const manager = h.manager({ instanceId: ghost.instance_id, linkTimeoutMs: 400 });
    // Bounded: the wait ends with the link step's own timeout (0.4 s), not the test's.
    const err = await manager.ensureNic(VXNET_A).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NicTimeoutError);
    expect((err as NicError).step).toBe('link');
    expect((err as Error).message).toMatch(/did not appear on i-[a-z0-9]+ within 0\.4 s/);
    expect(fake.nics().filter((n) => n.nic_name === `hostnic_${ghost.instance_id}`)).toEqual([]);
    expect(fake.requests({ action: 'DetachNics' })).toHaveLength(1);
    expect(h.store.nics.size).toBe(0);
    expect(h.store.intents.size).toBe(0);
  });

  it('repairs the host state of an existing record on ensureNic, checking it once per window in a burst', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    await h.sandbox.exec('node-1', ['ip', 'link', 'del', 'br_260']);
    const before = h.sandbox.qingcloud.requests().length;
    // Within the window (3 s by default) the verification made by the first call stands.
    await manager.ensureNic(VXNET_A);
    expect((await nodeState(h, 260)).links.find((l) => l.name === 'br_260')).toBeUndefined();
    h.clock.offset += 3_001;
    await manager.ensureNic(VXNET_A);
    expect(h.sandbox.qingcloud.requests().length).toBe(before);
    const state = await nodeState(h, 260);
    expect(state.links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_260');
    expect((await findLinksByMac(nic.nicId, { netns: h.netns })).length).toBe(2);
  });

  it('a lease asked while an expired verification is re-checked rides on the check instead of waiting for the lock', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    await h.sandbox.exec('node-1', ['ip', 'link', 'del', 'br_260']);
    h.clock.offset += 3_001;
    const checking = manager.leaseNic(VXNET_A);
    await pollUntil(() => manager.recheckUnderWay(VXNET_A.vxnetId));
    const rider = await manager.leaseNic(VXNET_A);
    // Leased while the check still holds the vxnet's lock, and counted at once: no release can slip in.
    expect(manager.vxnetBusy(VXNET_A.vxnetId)).toBe(true);
    expect(rider.nic.nicId).toBe(nic.nicId);
    expect(manager.leases(nic.nicId)).toBe(1);
    await rider.settled();
    const checker = await checking;
    expect(checker.nic.nicId).toBe(nic.nicId);
    expect(manager.leases(nic.nicId)).toBe(2);
    expect(manager.recheckUnderWay(VXNET_A.vxnetId)).toBe(false);
    expect((await nodeState(h, 260)).links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_260');
    rider.release();
    checker.release();
    expect(manager.leases(nic.nicId)).toBe(0);
  });

  it('a lease that rode on a failing re-check settles with its error', async () => {
    const manager = h.manager();
    await manager.ensureNic(VXNET_A);
    // The NIC's link is gone though the IaaS has it attached here: the check waits for it, then gives up.
    await h.sandbox.exec('node-1', ['ip', 'link', 'del', 'hostnic_pods001']);
    h.clock.offset += 3_001;
    const checking = manager.leaseNic(VXNET_A).catch((e: unknown) => e);
    await pollUntil(() => manager.recheckUnderWay(VXNET_A.vxnetId));
    const rider = await manager.leaseNic(VXNET_A);
    const settled = await rider.settled().then(() => undefined, (e: unknown) => e);
    expect(settled).toBeInstanceOf(NicError);
    expect(await checking).toBe(settled);
    rider.release();
  });
});

/** Polls `ready` once per event-loop turn (the check it waits for spawns processes, many turns long). */
async function pollUntil(ready: () => boolean): Promise<void> {
  for (let turns = 0; !ready(); turns++) {
    if (turns > 100_000) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
