import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listProxyNeighbours, wirePod } from '@hostnic/netlink';
import type { PodServiceRecord } from '../../src/pods/records.ts';
import { proxyEntriesOf } from '../../src/nics/repair.ts';
import { VXNET_A, isRoot, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

const POD_IPS = ['172.16.3.50', '172.16.3.51'];

function podRecord(nicId: string, ip: string, i: number, form: Pick<PodServiceRecord, 'arpMatch' | 'arpDev'>): PodServiceRecord {
  return {
    containerId: `c${i}`,
    ifName: 'eth0',
    podNamespace: 'default',
    podName: `p${i}`,
    infraContainerId: `c${i}`,
    netns: `/run/netns/p${i}`,
    handleId: `h${i}`,
    ip,
    vxnetId: VXNET_A.vxnetId,
    nicId,
    hostVeth: `vrp${i}`,
    hostVethMac: '02:00:00:00:00:01',
    podMac: '02:00:00:00:00:02',
    createdAt: new Date(0).toISOString(),
    ...form,
  };
}

describe('proxyEntriesOf', () => {
  it('takes proxy-form and form-less records onto the current bridge, never the ebtables forms', () => {
    const pods = [
      podRecord('n', '10.0.0.1', 1, { arpMatch: 'proxy', arpDev: 'br_old' }),
      podRecord('n', '10.0.0.2', 2, {}),
      podRecord('n', '10.0.0.3', 3, {
        arpMatch: 'logical-in',
        arpDev: 'br_260',
      }),
      podRecord('n', '10.0.0.4', 4, { arpMatch: 'in', arpDev: 'hostnic_x' }),
    ];
    expect(proxyEntriesOf(pods, 'br_260')).toEqual([
      { ip: '10.0.0.1', dev: 'br_260' },
      { ip: '10.0.0.2', dev: 'br_260' },
    ]);
  });
});

describe.skipIf(!isRoot)("NIC repair and the pods' proxy ARP entries", () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it("re-adds every recorded pod's proxy entry on a re-created br_260: the vxnet resolves the pods again", async () => {
    const manager = h.manager();
    const nic = await manager.ensureNic(VXNET_A);
    expect(nic.bridge).toBe('br_260');
    const records: PodServiceRecord[] = [];
    for (const [i, ip] of POD_IPS.entries()) {
      const pod = await h.sandbox.podNetns('node-1', `proxy${i}`);
      await wirePod({
        podNetns: pod.netns,
        hostNetns: h.netns,
        ifName: 'eth0',
        hostVeth: `vrp${i}`,
        podIP: ip,
        proxyArpDev: nic.bridge,
      });
      records.push(podRecord(nic.nicId, ip, i, { arpMatch: 'proxy', arpDev: nic.bridge }));
    }
    h.store.pods.set(nic.nicId, records);
    for (const ip of POD_IPS) expect(await h.sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);

    await h.sandbox.exec('node-1', ['ip', 'link', 'del', nic.bridge]);
    expect(await listProxyNeighbours({ netns: h.netns })).toEqual([]);
    // The VPC must ask again rather than use what it learnt before the bridge went.
    await h.sandbox.exec(h.sandbox.vpc.netns, ['ip', 'neigh', 'flush', 'to', VXNET_A.network]);

    expect(await manager.reconcile()).toMatchObject({
      repaired: [nic.nicId],
      errors: [],
    });
    const entries = await listProxyNeighbours({ netns: h.netns });
    expect(
      entries
        .filter((e) => e.dev === nic.bridge)
        .map((e) => e.ip)
        .sort(),
    ).toEqual(POD_IPS);
    for (const ip of POD_IPS) await expect.poll(() => h.sandbox.vpcPing(ip), { timeout: 20_000 }).toBe(true);
    const delay = await h.sandbox.exec('node-1', ['cat', `/proc/sys/net/ipv4/neigh/${nic.bridge}/proxy_delay`]);
    expect(delay.stdout.trim()).toBe('0');
  });
});
