/**
 * The idle-NIC release against an ADD on the same vxnet: the release is started at every await point of the
 * ADD (each datastore call and each named step), one point per round. Whatever the interleaving, the pod ends
 * on the vxnet's recorded NIC, attached to this instance: never on a NIC the release detached.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Failpoint } from '../../src/failpoints.ts';
import type { PodStore } from '../../src/pods/index.ts';
import type { ReleaseResult } from '../../src/nics/index.ts';
import { CONFIG, POD_VXNET, isRoot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

/** Calls `at(n)` before the n-th await point (0-based) of whatever uses the returned store and failpoint. */
function awaitPoints(h: PodHarness, at: (n: number) => Promise<void>): { store: PodStore; failpoint: Failpoint } {
  let n = 0;
  const point = async (): Promise<void> => at(n++);
  const s = h.store;
  const gated = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    await point();
    return fn(...args);
  };
  return {
    failpoint: () => point(),
    store: {
      getPod: gated((c: string, i: string) => s.getPod(c, i)),
      putPod: gated((p: Parameters<PodStore['putPod']>[0]) => s.putPod(p)),
      deletePod: gated((c: string, i: string) => s.deletePod(c, i)),
      listPods: gated(() => s.listPods()),
      beginIntent: gated((k: Parameters<PodStore['beginIntent']>[0], d: Parameters<PodStore['beginIntent']>[1]) => s.beginIntent(k, d)),
      updateIntent: gated((id: string, d: Parameters<PodStore['updateIntent']>[1]) => s.updateIntent(id, d)),
      finishIntent: gated((id: string) => s.finishIntent(id)),
      listIntents: gated(() => s.listIntents()),
      listNics: gated(() => s.listNics()),
      listRouteTables: gated(() => s.listRouteTables()),
    },
  };
}

describe.skipIf(!isRoot)('NIC lease: idle release interleaved with an ADD', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('never leaves a pod on a detached NIC, at any await point of the ADD', async () => {
    const pod = await h.podNetns('lease');
    // How many await points an ADD has (the NIC exists: the warm path, where the window was).
    const warm = h.addRequest(pod);
    await h.service.add(warm);
    await h.service.del({ attachment: warm.attachment, config: CONFIG, timeoutMs: 30_000 });
    let points = 0;
    const counting = awaitPoints(h, async () => {
      points++;
    });
    const probe = h.addRequest(pod);
    await h.serviceWith(counting).add(probe);
    await h.service.del({ attachment: probe.attachment, config: CONFIG, timeoutMs: 30_000 });
    expect(points).toBeGreaterThan(8);

    const releasedRounds: number[] = [];
    for (let k = 0; k < points; k++) {
      const nic = await h.store.nicForVxnet(POD_VXNET.id);
      // Idle for long already: the release acts at once unless something keeps the NIC.
      if (nic) await h.store.putNic({ ...nic, idleSince: new Date(0).toISOString() });
      let release: Promise<ReleaseResult[]> | undefined;
      const gate = awaitPoints(h, async (n) => {
        if (n !== k) return;
        release = h.nics.releaseIdleNics(0);
        // Run the release to its end here unless the ADD holds the vxnet lock (then it runs right after).
        if (!h.nics.vxnetBusy(POD_VXNET.id)) await release;
      });
      const request = h.addRequest(pod);
      await h.serviceWith(gate).add(request);
      const results = (await release) ?? [];
      if (results.some((r) => r.released)) releasedRounds.push(k);

      const record = await h.store.getPod(request.attachment.containerId, 'eth0');
      const recordedNic = await h.store.nicForVxnet(POD_VXNET.id);
      expect(record?.nicId).toBeDefined();
      expect(recordedNic?.nicId, `round ${k}`).toBe(record?.nicId);
      expect(recordedNic?.phase).toBe('Succeeded');
      const [inIaas] = await h.iaas.describeNics({ nics: [record?.nicId ?? ''] });
      expect(inIaas?.status, `round ${k}: NIC of the pod in the IaaS`).toBe('in-use');
      expect(inIaas?.instanceId).toBe(h.instanceId);
      expect(h.nics.leases(record?.nicId ?? '')).toBe(0);
      await h.service.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    }
    // The early rounds (before the ADD took its lease) did release the idle NIC; the ADD then made a new one.
    expect(releasedRounds.length).toBeGreaterThan(0);
    expect(releasedRounds.length).toBeLessThan(points);
    console.log(`await points per ADD: ${points}; rounds where the release went first: ${releasedRounds.join(', ')}`);
    // One ADD and DEL per await point: a dozen rounds on a loaded machine.
  }, 180_000);
});
