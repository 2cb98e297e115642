/**
 * The node-local sweep: our kernel objects that no record and no open intent own are removed after two looks;
 * those of recorded pods and of ADDs in flight, and everything not of our shape, are left alone.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installArpReply, listProxyNeighbours } from '@hostnic/netlink';
import { orphansOf } from '../../src/pods/index.ts';
import type { Intent } from '../../src/types.ts';
import { CONFIG, ebtablesArpReplyIps, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

describe('orphansOf', () => {
  const intent = (data: Intent['data']): Intent => ({ id: '1', kind: 'wire-pod', data, startedAt: '2026-01-01T00:00:00Z' });
  const kernel = { vethNames: ['vnic0123456789a', 'vnicabcdefabcde', 'eth0', 'vnicshort'], ruleIps: ['172.16.3.9', '172.16.3.10'], arpReplies: [{ ip: '172.16.3.9', mac: '52:54:00:00:00:01' }, { ip: '172.16.3.11', mac: '52:54:99:99:99:99' }], proxyArps: [{ ip: '172.16.3.9', dev: 'br_260' }, { ip: '172.16.3.12', dev: 'br_999' }] };

  it('counts only objects of our shape that nothing owns; an ADD in flight owns what it journaled', () => {
    const nic = { nicId: '52:54:00:00:00:01', bridge: 'br_260' } as never;
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [] }, 'vnic')).toEqual([
      { kind: 'veth', key: 'vnic0123456789a' },
      { kind: 'veth', key: 'vnicabcdefabcde' },
      { kind: 'rule', key: '172.16.3.9' },
      { kind: 'rule', key: '172.16.3.10' },
      { kind: 'arp-reply', key: '172.16.3.9' },
      { kind: 'proxy-arp', key: '172.16.3.9', dev: 'br_260' },
    ]);
    const inFlight = intent({ containerId: 'c1', ifName: 'eth0', hostVeth: 'vnic0123456789a', ips: '172.16.3.9' });
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [inFlight] }, 'vnic')).toEqual([
      { kind: 'veth', key: 'vnicabcdefabcde' },
      { kind: 'rule', key: '172.16.3.10' },
    ]);
  });
});

describe.skipIf(!isRoot)('PodService.sweepNode against the sandbox', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('removes orphans of our shape after the second look, keeps recorded pods and what is not ours', async () => {
    const pod = await h.podNetns('kept');
    const kept = h.addRequest(pod);
    const { result } = await h.service.add(kept);
    const keptIp = (result.ips[0]?.address ?? '').replace('/32', '');
    const nic = await h.store.nicForVxnet('vxnet-pods001');
    if (!nic) throw new Error('no NIC');
    // Left by a crash that lost its journal: a host veth, rule 1535, a proxy ARP entry, and an ebtables ARP reply
    // (an earlier release's) for an unowned IP.
    await h.sandbox.exec('node-1', ['ip', 'link', 'add', 'vnic00000000abc', 'type', 'veth', 'peer', 'name', 'sweep-peer']);
    await h.sandbox.exec('node-1', ['ip', 'neigh', 'add', 'proxy', '172.16.3.200', 'dev', nic.bridge]);
    await h.sandbox.exec('node-1', ['ip', 'rule', 'add', 'priority', '1535', 'to', '172.16.3.200/32', 'lookup', 'main']);
    const ebtables = { netns: h.sandbox.node('node-1').netns, lockPath: h.lockPath };
    await installArpReply({ ip: '172.16.3.200', mac: nic.nicId, bridge: nic.bridge, nicLink: nic.linkName }, ebtables);
    // Not ours: another veth name, a rule of another table, an ARP reply with a MAC that is no NIC of ours, a proxy
    // entry on a device that is no bridge of ours.
    await h.sandbox.exec('node-1', ['ip', 'link', 'add', 'notours0', 'type', 'veth', 'peer', 'name', 'notours1']);
    await h.sandbox.exec('node-1', ['ip', 'neigh', 'add', 'proxy', '172.16.3.203', 'dev', 'notours0']);
    await h.sandbox.exec('node-1', ['ip', 'rule', 'add', 'priority', '1535', 'to', '172.16.3.201/32', 'lookup', '100']);
    await installArpReply({ ip: '172.16.3.202', mac: '52:54:99:99:99:99', bridge: nic.bridge, nicLink: nic.linkName }, ebtables);

    const first = await h.service.sweepNode();
    expect(first).toEqual({ removed: [], waiting: 4, failed: [] });
    const second = await h.service.sweepNode();
    expect(second.failed).toEqual([]);
    expect(second.removed.map((o) => `${o.kind} ${o.key}`).sort()).toEqual(['arp-reply 172.16.3.200', 'proxy-arp 172.16.3.200', 'rule 172.16.3.200', 'veth vnic00000000abc']);
    expect(await h.service.sweepNode()).toEqual({ removed: [], waiting: 0, failed: [] });

    const state = await nodeSnapshot(h);
    expect(state.links.map((l) => l.name)).toEqual(expect.arrayContaining(['notours0', 'notours1']));
    expect(state.links.find((l) => l.name === 'vnic00000000abc')).toBeUndefined();
    expect(state.rules.filter((r) => r.priority === 1535).map((r) => r.dst).sort()).toEqual([`${keptIp}/32`, '172.16.3.201/32'].sort());
    expect(await ebtablesArpReplyIps(h)).toEqual(['172.16.3.202']);
    const proxies = (await listProxyNeighbours({ netns: h.sandbox.node('node-1').netns })).map((p) => `${p.ip} ${p.dev}`).sort();
    expect(proxies).toEqual([`${keptIp} ${nic.bridge}`, '172.16.3.203 notours0'].sort());
    // The recorded pod is whole.
    await h.service.check({ attachment: kept.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    await h.service.del({ attachment: kept.attachment, config: CONFIG, timeoutMs: 30_000 });
  });
});
