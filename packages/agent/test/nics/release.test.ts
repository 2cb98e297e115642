import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findLinksByMac } from '@hostnic/netlink';
import type { PodRecord } from '../../src/types.ts';
import { VXNET_A, VXNET_B, actions, isRoot, nodeState, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

function pod(nicId: string): PodRecord {
  return {
    containerId: 'c1', ifName: 'eth0', podNamespace: 'default', podName: 'p', infraContainerId: 'c1', netns: '/x',
    handleId: 'h', ip: '172.16.3.10', vxnetId: VXNET_A.vxnetId, nicId, hostVeth: 'vnic1', hostVethMac: '', podMac: '',
    createdAt: new Date().toISOString(),
  };
}

describe.skipIf(!isRoot)('NicManager release against the sandbox', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('releaseNic cleans the host, detaches (job waited) and deletes the NIC', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    const fake = h.sandbox.qingcloud;
    const before = fake.requests().length;
    const result = await manager.releaseNic(nic.nicId.toUpperCase());
    expect(result).toEqual({ released: true, nicId: nic.nicId, outcome: 'deleted' });
    const calls = actions(fake).slice(before).filter((a) => a !== 'DescribeJobs' && a !== 'DescribeNics');
    expect(calls).toEqual(['DetachNics', 'DeleteNics']);
    expect(fake.nics().some((n) => n.nic_id === nic.nicId)).toBe(false);
    expect(await findLinksByMac(nic.nicId, { netns: h.netns })).toEqual([]);
    const state = await nodeState(h, 260);
    expect(state.links.some((l) => l.name === 'br_260')).toBe(false);
    expect(state.rules.some((r) => r.priority === 1536)).toBe(false);
    expect(state.routes.filter((r) => r.table === 260)).toEqual([]);
    expect(h.store.nics.size).toBe(0);
    expect(h.store.intents.size).toBe(0);
  });

  it('keeps a NIC that has pods', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    h.store.pods.set(nic.nicId, [pod(nic.nicId)]);
    expect(await manager.releaseNic(nic.nicId)).toEqual({ released: false, nicId: nic.nicId, reason: 'has-pods' });
    expect(h.sandbox.qingcloud.requests({ action: 'DetachNics' })).toEqual([]);
  });

  it('counts ResourceNotFound as done', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    h.sandbox.qingcloud.faults.add({ action: 'DetachNics', retCode: 2100, message: `ResourceNotFound, resource [${nic.nicId}] not found`, times: 1 });
    const result = await manager.releaseNic(nic.nicId);
    expect(result.released).toBe(true);
    expect(h.store.nics.size).toBe(0);
  });

  it('leaves the record in phase Init with lastError when the detach is refused', async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    h.sandbox.qingcloud.faults.add({ action: 'DetachNics', retCode: 1400, message: 'PermissionDenied, locked', times: 1 });
    const result = await manager.releaseNic(nic.nicId);
    expect(result).toMatchObject({ released: false, reason: 'failed' });
    expect(await h.store.getNic(nic.nicId)).toMatchObject({ phase: 'Init', lastError: expect.stringMatching(/detach of NIC .*PermissionDenied/) });
    expect(h.store.intents.size).toBe(0);
    // A later reconcile rebuilds the host state the release had removed.
    const summary = await manager.reconcile();
    expect(summary.repaired).toEqual([nic.nicId]);
    expect((await h.store.getNic(nic.nicId))?.phase).toBe('Succeeded');
  });

  it('releaseIdleNics releases NICs idle for longer than the period only', async () => {
    const manager = h.manager();
    const a = await manager.ensureNic(VXNET_A);
    const b = await manager.ensureNic(VXNET_B);
    h.store.pods.set(b.nicId, [pod(b.nicId)]);
    expect(await manager.releaseIdleNics(60_000)).toEqual([]);
    h.clock.offset += 61_000;
    const results = await manager.releaseIdleNics(60_000);
    expect(results).toEqual([{ released: true, nicId: a.nicId, outcome: 'deleted' }]);
    expect([...h.store.nics.keys()]).toEqual([b.nicId]);
    // b got busy: its idleSince is cleared; once the pod leaves, the idle age starts then.
    expect((await h.store.getNic(b.nicId))?.idleSince).toBeUndefined();
    h.store.pods.delete(b.nicId);
    expect(await manager.releaseIdleNics(60_000)).toEqual([]);
    h.clock.offset += 61_000;
    expect(await manager.releaseIdleNics(60_000)).toEqual([{ released: true, nicId: b.nicId, outcome: 'deleted' }]);
  });

  it('releaseIdleNics keeps the warm pool\'s NICs however long they are idle', async () => {
    const manager = h.manager();
    const a = await manager.ensureNic(VXNET_A);
    const b = await manager.ensureNic(VXNET_B);
    const warm = (vxnetId: string): boolean => vxnetId === VXNET_A.vxnetId;
    expect(await manager.releaseIdleNics(60_000, undefined, warm)).toEqual([]);
    h.clock.offset += 61_000;
    expect(await manager.releaseIdleNics(60_000, undefined, warm)).toEqual([{ released: true, nicId: b.nicId, outcome: 'deleted' }]);
    h.clock.offset += 10 * 61_000;
    expect(await manager.releaseIdleNics(60_000, undefined, warm)).toEqual([]);
    expect([...h.store.nics.keys()]).toEqual([a.nicId]);
  });

  it('freePeriod is measured from the last pod: released exactly freePeriod after its DEL, not 1-2 x later', async () => {
    const F = 600_000;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const manager = h.manager({ clock: { now: () => now } });
    const nic = await manager.ensureNic(VXNET_A);
    h.store.pods.set(nic.nicId, [pod(nic.nicId)]);
    // The timer looks while the pod is there: busy, nothing due.
    expect(await manager.idleRelease(F)).toEqual({ results: [] });
    now += 7 * 60_000;
    // The last pod leaves between two looks; its DEL starts the idle age.
    h.store.pods.delete(nic.nicId);
    await manager.podLeft(nic.nicId);
    const left = now;
    expect((await h.store.getNic(nic.nicId))?.idleSince).toBe(new Date(left).toISOString());
    now += 60_000;
    expect(await manager.idleRelease(F)).toEqual({ results: [], nextDueAt: left + F });
    now = left + F - 1;
    expect(await manager.idleRelease(F)).toEqual({ results: [], nextDueAt: left + F });
    now = left + F;
    expect(await manager.idleRelease(F)).toEqual({ results: [{ released: true, nicId: nic.nicId, outcome: 'deleted' }] });
    expect(h.store.nics.size).toBe(0);
  });

  it('podLeft leaves a NIC that still has pods or a lease as it is; a failed release is due again one period later', async () => {
    const F = 60_000;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const manager = h.manager({ clock: { now: () => now } });
    const nic = await manager.ensureNic(VXNET_A);
    h.store.pods.set(nic.nicId, [pod(nic.nicId)]);
    await manager.idleRelease(F);
    await manager.podLeft(nic.nicId);
    expect((await h.store.getNic(nic.nicId))?.idleSince).toBeUndefined();
    h.store.pods.delete(nic.nicId);
    const lease = await manager.leaseNic(VXNET_A);
    await manager.podLeft(nic.nicId);
    expect((await h.store.getNic(nic.nicId))?.idleSince).toBeUndefined();
    lease.release();
    await manager.podLeft(nic.nicId);
    now += F;
    h.sandbox.qingcloud.faults.add({ action: 'DetachNics', retCode: 1400, message: 'PermissionDenied, locked', times: 1 });
    const failed = await manager.idleRelease(F);
    expect(failed.results).toMatchObject([{ released: false, reason: 'failed' }]);
    expect(failed.nextDueAt).toBe(now + F);
  });

  it('clearIdleNics frees NICs without pods at once, keeps the warm pool\'s and busy ones with the reason', async () => {
    const manager = h.manager();
    const a = await manager.ensureNic(VXNET_A);
    const b = await manager.ensureNic(VXNET_B);
    const warm = (vxnetId: string): boolean => vxnetId === VXNET_A.vxnetId;
    h.store.pods.set(b.nicId, [pod(b.nicId)]);
    expect(await manager.clearIdleNics({ dryRun: false, keep: warm })).toEqual([
      { nicId: a.nicId, vxnetId: VXNET_A.vxnetId, outcome: 'kept', reason: 'warm pool (warmNicsPerVxnet)' },
      { nicId: b.nicId, vxnetId: VXNET_B.vxnetId, outcome: 'kept', reason: '1 pod(s) on it' },
    ]);
    h.store.pods.delete(b.nicId);
    // Idle for no time at all: freed anyway, which is the point of the command.
    expect(await manager.clearIdleNics({ dryRun: false, keep: warm })).toEqual([
      { nicId: a.nicId, vxnetId: VXNET_A.vxnetId, outcome: 'kept', reason: 'warm pool (warmNicsPerVxnet)' },
      { nicId: b.nicId, vxnetId: VXNET_B.vxnetId, outcome: 'released' },
    ]);
    expect([...h.store.nics.keys()]).toEqual([a.nicId]);
  });
});
