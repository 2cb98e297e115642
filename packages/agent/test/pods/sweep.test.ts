/**
 * The node-local sweep: our kernel objects that no record and no open intent own are removed after two looks;
 * those of recorded pods and of ADDs in flight, and everything not of our shape, are left alone.
 */

import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AddResponse } from '@hostnic/protocol';
import { hostVethName, installArpReply, listProxyNeighbours } from '@hostnic/netlink';
import { SharedExclusiveGate } from '@hostnic/runtime';
import { orphansOf } from '../../src/pods/index.ts';
import type { PodStore } from '../../src/pods/index.ts';
import type { Intent } from '../../src/types.ts';
import { CONFIG, ebtablesArpReplyIps, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

describe('orphansOf', () => {
  const intent = (data: Intent['data']): Intent => ({ id: '1', kind: 'wire-pod', data, startedAt: '2026-01-01T00:00:00Z' });
  const kernel = { vethNames: ['vnic0123456789a', 'vnicabcdefabcde', 'eth0', 'vnicshort'], ruleIps: ['172.16.3.9', '172.16.3.10'], arpReplies: [{ ip: '172.16.3.9', mac: '52:54:00:00:00:01' }, { ip: '172.16.3.11', mac: '52:54:99:99:99:99' }], proxyArps: [{ ip: '172.16.3.9', dev: 'br_260' }, { ip: '172.16.3.12', dev: 'br_999' }] };

  it('counts only objects of our shape that nothing owns; an ADD in flight owns what it journaled', () => {
    const nic = { nicId: '52:54:00:00:00:01', bridge: 'br_260' } as never;
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [] })).toEqual([
      { kind: 'veth', key: 'vnic0123456789a' },
      { kind: 'veth', key: 'vnicabcdefabcde' },
      { kind: 'rule', key: '172.16.3.9' },
      { kind: 'rule', key: '172.16.3.10' },
      { kind: 'arp-reply', key: '172.16.3.9' },
      { kind: 'proxy-arp', key: '172.16.3.9', dev: 'br_260' },
    ]);
    const inFlight = intent({ containerId: 'c1', ifName: 'eth0', hostVeth: 'vnic0123456789a', ips: '172.16.3.9' });
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [inFlight] })).toEqual([
      { kind: 'veth', key: 'vnicabcdefabcde' },
      { kind: 'rule', key: '172.16.3.10' },
    ]);
  });
});

describe('orphansOf: route tables and bridges', () => {
  const nic = { nicId: '52:54:00:00:00:01', routeTable: 260, bridge: 'br_260', linkName: 'hostnic_pods001' } as never;
  const kernel = {
    vethNames: [],
    ruleIps: [],
    arpReplies: [],
    proxyArps: [],
    tableRules: [
      { priority: 1536, table: 260, src: '172.16.3.0/24' },
      { priority: 1536, table: 262, src: '172.16.5.0/24' },
      // Not ours: another priority, a table below the base.
      { priority: 1600, table: 263, src: '10.1.0.0/16' },
      { priority: 1536, table: 100, src: '10.2.0.0/16' },
    ],
    tableRoutes: [
      { table: 261, dev: 'br_261' },
      { table: 264, dev: 'hostnic_gone' },
      // Not ours: a table of our range routed through somebody else's link.
      { table: 265, dev: 'eth0' },
    ],
    bridges: [
      { name: 'br_260', ports: ['hostnic_pods001'] },
      { name: 'br_261', ports: [] },
      // Holds a recorded NIC: in use whatever its number.
      { name: 'br_270', ports: ['hostnic_pods001'] },
      { name: 'br_99', ports: [] },
      { name: 'docker0', ports: [] },
    ],
  };

  it('finds tables of our shape and range and bridges br_N that no record, reservation or intent holds', () => {
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [] })).toEqual([
      { kind: 'table', key: '261' },
      { kind: 'table', key: '262' },
      { kind: 'table', key: '264' },
      { kind: 'bridge', key: 'br_261' },
    ]);
  });

  it('keeps a reserved table and its bridge, and honours the configured base', () => {
    expect(orphansOf(kernel, { pods: [], nics: [nic], intents: [], tables: [{ table: 261 }] }, { routeTableBase: 262 })).toEqual([
      { kind: 'table', key: '262' },
      { kind: 'table', key: '264' },
    ]);
  });
});

describe.skipIf(!isRoot)('PodService.sweepNode and checkNode against the sandbox', () => {
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

  it('an ADD journaling its veth while the sweep removes a leftover of the same name waits, and keeps its veth', async () => {
    const pod = await h.podNetns('racer');
    const request = h.addRequest(pod);
    const veth = hostVethName('default', pod.pod);
    // Left by an earlier sandbox of this pod whose journal was lost: a host veth of the name the next ADD uses.
    await h.sandbox.exec('node-1', ['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', `rp${randomBytes(3).toString('hex')}`]);
    const gate = new SharedExclusiveGate();
    let added: Promise<AddResponse> | undefined;
    let settled = false;
    let tableReads = 0;
    const store: PodStore = {
      getPod: (c, i) => h.store.getPod(c, i),
      putPod: (p) => h.store.putPod(p),
      deletePod: (c, i) => h.store.deletePod(c, i),
      listPods: () => h.store.listPods(),
      beginIntent: (k, d) => h.store.beginIntent(k, d),
      updateIntent: (id, d) => h.store.updateIntent(id, d),
      finishIntent: (id) => h.store.finishIntent(id),
      listIntents: () => h.store.listIntents(),
      listNics: () => h.store.listNics(),
      // The store's last read of a look; the third is the second sweep's read right before it removes.
      listRouteTables: async () => {
        if (++tableReads === 3) {
          added = service.add(request);
          void added.then(
            () => (settled = true),
            () => (settled = true),
          );
          // The ADD either waits at the gate (it must) or runs to its end past the sweep's view.
          await vi.waitFor(() => expect(gate.waiting > 0 || settled).toBe(true), { timeout: 30_000, interval: 20 });
        }
        return h.store.listRouteTables();
      },
    };
    const service = h.serviceWith({ store, ownership: gate });
    expect(await service.sweepNode()).toEqual({ removed: [], waiting: 1, failed: [] });
    const second = await service.sweepNode();
    expect(second.removed).toEqual([{ kind: 'veth', key: veth }]);
    if (added === undefined) throw new Error('the ADD was never started');
    const { result } = await added;
    expect((await nodeSnapshot(h)).links.map((l) => l.name)).toContain(veth);
    await service.check({ attachment: request.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    await service.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
  });

  it('checkNode lists orphaned tables and bridges, removes them with fix, and keeps the recorded NIC and what is not ours', async () => {
    const pod = await h.podNetns('kept');
    const kept = h.addRequest(pod);
    const { result } = await h.service.add(kept);
    const nic = await h.store.nicForVxnet('vxnet-pods001');
    if (!nic) throw new Error('no NIC');
    const ex = (args: string[]): Promise<unknown> => h.sandbox.exec('node-1', args);
    // Left by a NIC whose record was lost: its bridge, table routes and rule 1536.
    const orphanTable = nic.routeTable + 7;
    await ex(['ip', 'link', 'add', `br_${orphanTable}`, 'type', 'bridge']);
    await ex(['ip', 'link', 'set', `br_${orphanTable}`, 'up']);
    await ex(['ip', 'route', 'add', '10.77.0.0/24', 'dev', `br_${orphanTable}`, 'table', String(orphanTable)]);
    await ex(['ip', 'rule', 'add', 'priority', '1536', 'from', '10.77.0.0/24', 'lookup', String(orphanTable)]);
    // Not ours: a table below the base, a bridge of another name.
    await ex(['ip', 'rule', 'add', 'priority', '1536', 'from', '10.78.0.0/24', 'lookup', '120']);
    await ex(['ip', 'link', 'add', 'notours-br', 'type', 'bridge']);

    const listed = await h.service.checkNode(false);
    expect(listed.found).toEqual([
      { kind: 'table', key: String(orphanTable) },
      { kind: 'bridge', key: `br_${orphanTable}` },
    ]);
    expect(listed.removed).toEqual([]);
    // Listing changes nothing.
    expect((await h.service.checkNode(false)).found).toHaveLength(2);

    const fixed = await h.service.checkNode(true);
    expect(fixed.failed).toEqual([]);
    expect(fixed.removed).toEqual(listed.found);
    expect(await h.service.checkNode(false)).toEqual({ found: [], removed: [], failed: [] });

    const state = await nodeSnapshot(h);
    expect(state.links.map((l) => l.name)).toEqual(expect.arrayContaining([nic.bridge, nic.linkName, 'notours-br']));
    expect(state.links.find((l) => l.name === `br_${orphanTable}`)).toBeUndefined();
    expect(state.rules.filter((r) => r.priority === 1536).map((r) => r.table).sort()).toEqual([120, nic.routeTable].sort());
    // The recorded pod is whole.
    await h.service.check({ attachment: kept.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    await h.service.del({ attachment: kept.attachment, config: CONFIG, timeoutMs: 30_000 });
  });

  it('the periodic sweep removes an orphaned table only at its second look', async () => {
    const pod = await h.podNetns('kept');
    await h.service.add(h.addRequest(pod));
    const nic = await h.store.nicForVxnet('vxnet-pods001');
    if (!nic) throw new Error('no NIC');
    const orphanTable = nic.routeTable + 9;
    await h.sandbox.exec('node-1', ['ip', 'rule', 'add', 'priority', '1536', 'from', '10.79.0.0/24', 'lookup', String(orphanTable)]);
    expect(await h.service.sweepNode()).toEqual({ removed: [], waiting: 1, failed: [] });
    expect(await h.service.sweepNode()).toEqual({ removed: [{ kind: 'table', key: String(orphanTable) }], waiting: 0, failed: [] });
    const state = await nodeSnapshot(h);
    expect(state.rules.filter((r) => r.priority === 1536).map((r) => r.table)).toEqual([nic.routeTable]);
  });
});
