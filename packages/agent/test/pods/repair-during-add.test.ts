/**
 * A NIC repair that re-creates br_N while an ADD is wiring a pod onto that NIC (between the wiring and the pod's
 * record): the repair puts back the proxy entries of recorded pods only, so without more the new pod would have no
 * ARP answer for the rest of its life, and the vxnet could not reach it. The ADD must see the repair and put its
 * entry back.
 */

import { listProxyNeighbours } from '@hostnic/netlink';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Failpoint } from '../../src/failpoints.ts';
import { CONFIG, POD_VXNET, isRoot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

describe.skipIf(!isRoot)('a NIC repair while an ADD wires a pod onto the NIC', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('leaves the new pod with its proxy ARP entry on the re-created bridge, reachable from the vxnet', async () => {
    // A first pod makes the NIC, and is recorded before the repair: the repair itself restores its entry.
    const first = h.addRequest(await h.podNetns('before'));
    const firstIp = (await h.service.add(first)).result.ips[0]?.address.split('/')[0] ?? '';
    const nic = await h.store.nicForVxnet(POD_VXNET.id);
    expect(nic?.bridge).toBe('br_260');
    const bridge = nic?.bridge ?? '';

    let repaired = 0;
    const repairAfterWiring: Failpoint = async (name) => {
      if (name !== 'add:wired') return;
      // Something took the bridge (an operator, a reboot of the link); the periodic reconcile repairs it while
      // this ADD has wired its pod and not yet written the record.
      await h.sandbox.exec('node-1', ['ip', 'link', 'del', bridge]);
      const summary = await h.nics.reconcile();
      repaired += summary.repaired.length;
    };
    const pod = await h.podNetns('during');
    const second = h.addRequest(pod);
    const ip = (await h.serviceWith({ failpoint: repairAfterWiring }).add(second)).result.ips[0]?.address.split('/')[0] ?? '';
    expect(repaired).toBe(1);

    const entries = await listProxyNeighbours({ netns: h.sandbox.node('node-1').netns });
    expect(entries.filter((e) => e.dev === bridge).map((e) => e.ip).sort()).toEqual([firstIp, ip].sort());
    // The VPC asks again rather than use what it learnt before the bridge went.
    await h.sandbox.exec('vpc', ['ip', 'neigh', 'flush', 'to', POD_VXNET.cidr]);
    await expect.poll(() => h.sandbox.vpcPing(ip), { timeout: 10_000 }).toBe(true);
    expect(await h.sandbox.vpcPing(firstIp, { attempts: 3 })).toBe(true);

    for (const r of [first, second]) await h.service.del({ attachment: r.attachment, config: CONFIG, timeoutMs: 30_000 });
    expect(await listProxyNeighbours({ netns: h.sandbox.node('node-1').netns })).toEqual([]);
  }, 60_000);
});
