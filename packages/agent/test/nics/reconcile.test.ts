import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findLinksByMac } from '@hostnic/netlink';
import { VXNET_A, isRoot, nodeState, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

const FAST_WAIT = { initialIntervalMs: 10, maxIntervalMs: 50, timeoutMs: 5_000 };

describe.skipIf(!isRoot)('NicManager.reconcile against the sandbox', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  async function attachedOrphan(): Promise<string> {
    const [created] = await h.client.createNics({ vxnet: VXNET_A.vxnetId, nicName: `hostnic_${h.instanceId}`, disableIp: true });
    const nicId = created!.nicId;
    const { jobId } = await h.client.attachNics({ nics: [nicId], instance: h.instanceId });
    if (jobId) await h.client.waitJob(jobId, FAST_WAIT);
    return nicId;
  }

  it('adopts a NIC of ours attached here without a record', async () => {
    const nicId = await attachedOrphan();
    const summary = await h.manager().reconcile();
    expect(summary.adopted).toEqual([nicId]);
    expect(summary.errors).toEqual([]);
    expect(await h.store.getNic(nicId)).toMatchObject({ phase: 'Succeeded', routeTable: 260, vxnet: VXNET_A });
    const state = await nodeState(h, 260);
    expect(state.links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_260');
    expect(state.rules.filter((r) => r.priority === 1536 && r.table === 260)).toHaveLength(1);
  });

  it('adopts a NIC already on a bridge br_N (the Go agent\'s, records lost) with table N, leaving no second bridge', async () => {
    const nicId = await attachedOrphan();
    const link = (await findLinksByMac(nicId, { netns: h.sandbox.node('node-1').netns }))[0];
    if (link === undefined) throw new Error('no link for the attached NIC');
    const ip = (...args: string[]) => h.sandbox.exec('node-1', ['ip', ...args]);
    await ip('link', 'add', 'br_263', 'type', 'bridge');
    await ip('link', 'set', link.name, 'master', 'br_263');
    await ip('rule', 'add', 'pref', '1536', 'from', VXNET_A.network, 'lookup', '263');
    const summary = await h.manager().reconcile();
    expect(summary).toMatchObject({ adopted: [nicId.toLowerCase()], errors: [] });
    expect(await h.store.getNic(nicId)).toMatchObject({ phase: 'Succeeded', routeTable: 263, bridge: 'br_263' });
    const state = await nodeState(h, 263);
    expect(state.links.filter((l) => l.name.startsWith('br_')).map((l) => l.name)).toEqual(['br_263']);
    expect(state.rules.filter((r) => r.priority === 1536).map((r) => r.table)).toEqual([263]);
    expect(state.routes.filter((r) => r.table === 263)).toHaveLength(2);
  });

  it('adopts a NIC whose setup stopped before it joined br_N (bridge without a port, rule 1536 into N) with table N', async () => {
    const nicId = await attachedOrphan();
    const ip = (...args: string[]) => h.sandbox.exec('node-1', ['ip', ...args]);
    await ip('link', 'add', 'br_264', 'type', 'bridge');
    await ip('link', 'set', 'br_264', 'up');
    await ip('route', 'add', VXNET_A.network, 'dev', 'br_264', 'scope', 'link', 'table', '264');
    await ip('rule', 'add', 'pref', '1536', 'from', VXNET_A.network, 'lookup', '264');
    const summary = await h.manager().reconcile();
    expect(summary).toMatchObject({ adopted: [nicId.toLowerCase()], errors: [] });
    expect(await h.store.getNic(nicId)).toMatchObject({ phase: 'Succeeded', routeTable: 264, bridge: 'br_264' });
    const state = await nodeState(h, 264);
    expect(state.links.filter((l) => l.name.startsWith('br_')).map((l) => l.name)).toEqual(['br_264']);
    expect(state.links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_264');
    expect(state.rules.filter((r) => r.priority === 1536).map((r) => r.table)).toEqual([264]);
  });

  it('rebuilds a deleted br_260 of a Succeeded record', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    await h.sandbox.exec('node-1', ['ip', 'link', 'del', 'br_260']);
    const summary = await manager.reconcile();
    expect(summary.repaired).toEqual([nic.nicId]);
    const state = await nodeState(h, 260);
    expect(state.links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_260');
    expect(state.routes.filter((r) => r.table === 260)).toHaveLength(2);
    // Nothing left to do the second time.
    expect(await manager.reconcile()).toMatchObject({ repaired: [], adopted: [], deleted: [], errors: [] });
  });

  it('re-attaches a record whose NIC was detached in the IaaS', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    const { jobId } = await h.client.detachNics([nic.nicId]);
    if (jobId) await h.client.waitJob(jobId, FAST_WAIT);
    // Only br_260 keeps the MAC (a bridge inherits its port's address).
    expect((await findLinksByMac(nic.nicId, { netns: h.netns })).map((l) => l.kind)).toEqual(['bridge']);
    const summary = await manager.reconcile();
    expect(summary.reattached).toEqual([nic.nicId]);
    expect(h.sandbox.qingcloud.nics().find((n) => n.nic_id === nic.nicId)?.instance_id).toBe(h.instanceId);
    expect((await nodeState(h, 260)).links.find((l) => l.name === 'hostnic_pods001')?.master).toBe('br_260');
  });

  it('deletes a detached orphan only after the grace period, after a second look', async () => {
    const fake = h.sandbox.qingcloud;
    const orphan = fake.addNic({ vxnet_id: VXNET_A.vxnetId, nic_name: `hostnic_${h.instanceId}` });
    const manager = h.manager({ orphanGraceMs: 60_000 });
    expect((await manager.reconcile()).waiting).toEqual([orphan.nic_id]);
    expect(fake.nics().some((n) => n.nic_id === orphan.nic_id)).toBe(true);
    h.clock.offset += 61_000;
    const summary = await manager.reconcile();
    expect(summary.deleted).toEqual([orphan.nic_id]);
    expect(fake.nics().some((n) => n.nic_id === orphan.nic_id)).toBe(false);
    expect(h.store.intents.size).toBe(0);
  });

  it('never touches NICs attached to other instances, even with our name', async () => {
    const fake = h.sandbox.qingcloud;
    const other = fake.addInstance({ vxnet_id: 'vxnet-mgmt001' });
    const foreign = fake.addNic({
      vxnet_id: VXNET_A.vxnetId,
      nic_name: `hostnic_${h.instanceId}`,
      status: 'in-use',
      instance_id: other.instance_id,
    });
    const manager = h.manager({ orphanGraceMs: 0 });
    await manager.reconcile();
    h.clock.offset += 1_000;
    const summary = await manager.reconcile();
    expect(summary).toMatchObject({ adopted: [], deleted: [], errors: [] });
    expect(fake.nics().find((n) => n.nic_id === foreign.nic_id)).toMatchObject({ status: 'in-use', instance_id: other.instance_id });
    expect(fake.requests({ action: 'DetachNics' })).toEqual([]);
  });

  it('resolves a crash between CreateNics and the record write: detached NIC deleted', async () => {
    const fake = h.sandbox.qingcloud;
    await h.store.beginIntent('create-nic', { vxnetId: VXNET_A.vxnetId, nicName: `hostnic_${h.instanceId}`, instanceId: h.instanceId });
    const made = fake.addNic({ vxnet_id: VXNET_A.vxnetId, nic_name: `hostnic_${h.instanceId}` });
    const summary = await h.manager().reconcile();
    expect(summary.deleted).toEqual([made.nic_id]);
    expect(summary.intentsFinished).toBe(1);
    expect(fake.nics().some((n) => n.nic_id === made.nic_id)).toBe(false);
    expect(h.store.intents.size).toBe(0);
    expect(h.store.nics.size).toBe(0);
  });

  it('resolves a crash after the attach but before the record: attached NIC adopted', async () => {
    await h.store.beginIntent('create-nic', { vxnetId: VXNET_A.vxnetId, nicName: `hostnic_${h.instanceId}`, instanceId: h.instanceId });
    const nicId = await attachedOrphan();
    const summary = await h.manager().reconcile();
    expect(summary.adopted).toEqual([nicId]);
    expect(h.store.intents.size).toBe(0);
    expect((await h.store.getNic(nicId))?.phase).toBe('Succeeded');
  });

  it('finishes a release left by a stuck attach once the job is over', async () => {
    const fake = h.sandbox.qingcloud;
    fake.faults.add({ action: 'AttachNics', job: { workMs: 800 }, times: 1 });
    const manager = h.manager({ attachTimeoutMs: 200 });
    await expect(manager.ensureNic(VXNET_A)).rejects.toThrow(/did not finish within 0\.2 s/);
    expect([...h.store.intents.values()].map((i) => i.kind)).toEqual(['release-nic']);
    // The reconcile may finish the release only once the IaaS says the attach job is over.
    await expect.poll(() => fake.jobs().filter((j) => j.job_action === 'AttachNics').map((j) => j.status), { timeout: 20_000 }).toEqual(['successful']);
    const summary = await manager.reconcile();
    expect(summary.errors).toEqual([]);
    expect(summary.deleted).toHaveLength(1);
    expect(h.store.intents.size).toBe(0);
    expect(fake.nics().filter((n) => n.nic_name === `hostnic_${h.instanceId}`)).toEqual([]);
  });
});
