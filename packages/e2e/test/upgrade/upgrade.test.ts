/**
 * In-place upgrade from the Go agent, end to end, as root: node-1 is laid out exactly as the Go agent leaves a
 * node (go-layout.ts): a NIC attached in the fake IaaS on a VxLAN vxnet (br_260, table 260) and one on a VLAN
 * vxnet (br_261 addressed by DHCP, table 261 empty), rules 1535/1536, the ebtables ARP replies, three pods
 * wired by its plugin, its LevelDB records, the pods' addresses held in IPAM. The pods ping their gateway and
 * the VPC router pings them every 100 ms while this agent starts on that node. Then: no reply was lost, the
 * agent holds the Go agent's NICs and pods under the same tables and addresses, nothing stale is left, and an
 * imported pod is deleted and a new one added as if this agent had wired them.
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Ipam, podHandleId } from '@hostnic/ipam';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { diffHostNic, readSnapshot } from '@hostnic/netlink';
import type { SandboxNetwork } from '@hostnic/sandbox/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketGet, startHostnicStack, until } from '../../src/stack/index.ts';
import type { HostnicStack } from '../../src/stack/index.ts';
import { MGMT, PODS1 } from '../agent/harness.ts';
import { attachGoNic, goRecordValue, layOutGoNic, wireGoPod } from './go-layout.ts';
import type { GoNic, GoPod } from './go-layout.ts';
import { writeLevelDb } from './leveldb-writer.ts';
import { startPingStream } from './ping-stream.ts';
import type { PingStream, PingTally } from './ping-stream.ts';

const isRoot = process.getuid?.() === 0;
const NODE = 'node-1';
const NAMESPACE = 'default';
const VLAN_NAMESPACE = 'vl';
const TABLE = 260;
const VLAN = { id: 'vxnet-pods002', cidr: '172.16.4.0/24', tunnelType: 'vlan' } as const;

interface AgentNic { nicId: string; routeTable: number; bridge: string; phase: string; dhcpLease?: { address: string; prefixLength: number } }
interface AgentPod { podName: string; ip: string; hostVeth: string; containerId: string }

/** Which Go pods sit on which vxnet: the namespace maps to it through hostnic-ipam-config. */
const GO_PODS = [
  { vxnet: PODS1.id, table: TABLE, namespace: NAMESPACE, names: ['web-1', 'web-2'] },
  { vxnet: VLAN.id, table: TABLE + 1, namespace: VLAN_NAMESPACE, names: ['vl-1'] },
] as const;

/**
 * What the Go agent left: a NIC per vxnet and their pods, each pod's address held in IPAM under the handle the
 * plugin named, and the LevelDB record of each vxnet.
 */
async function layOutGoNode(sb: SandboxNetwork, kc: KubeConfig): Promise<{ nics: GoNic[]; pods: GoPod[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  const store = kubernetesIpamStoreFromKubeConfig(kc);
  await core.createNamespace({ body: { metadata: { name: VLAN_NAMESPACE } } });
  const nics: GoNic[] = [];
  const pods: GoPod[] = [];
  const records = new Map<string, string>();
  try {
    const ipam = new Ipam(store);
    for (const group of GO_PODS) {
      const nic = await attachGoNic(sb, NODE, sb.vxnet(group.vxnet), group.table);
      await layOutGoNic(sb, NODE, nic);
      const onNic: GoPod[] = [];
      for (const name of group.names) {
        const namespace = group.namespace;
        await core.createNamespacedPod({ namespace, body: { metadata: { name, namespace }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'pause' }] } } });
        const containerId = randomBytes(32).toString('hex');
        const { address: ip } = await ipam.allocate({ handleId: podHandleId(namespace, name, containerId).id, namespace, pod: name, node: NODE });
        const netns = await sb.podNetns(NODE, `${namespace}-${name}`);
        onNic.push(await wireGoPod(sb, NODE, nic, { namespace, name, containerId, ip, netns }));
      }
      nics.push(nic);
      pods.push(...onNic);
      records.set(nic.vxnet.id, goRecordValue(nic, onNic));
    }
  } finally {
    await store.close();
  }
  await writeLevelDb(join(sb.node(NODE).paths.stateDir, 'agent'), records);
  return { nics, pods };
}

async function agentView<T>(stack: HostnicStack, path: '/v1/nics' | '/v1/pods', key: 'nics' | 'pods'): Promise<T[]> {
  const r = await socketGet(stack.agent(NODE).socket, path);
  return ((r?.body as Record<string, T[] | undefined> | undefined)?.[key]) ?? [];
}

/** ebtables' ARP reply entries on the node, as `<ip> <mac> <dev>`. */
async function arpReplies(sb: SandboxNetwork): Promise<string[]> {
  const out = (await sb.exec(NODE, ['ebtables', '-t', 'nat', '-L', 'PREROUTING'])).stdout;
  return out.split('\n').filter((l) => l.includes('arpreply')).map((l) => {
    const ip = /--arp-ip-dst (\S+)/.exec(l)?.[1] ?? '?';
    const mac = /--arpreply-mac (\S+)/.exec(l)?.[1] ?? '?';
    const dev = /(?:--logical-in|-i) (\S+)/.exec(l)?.[1] ?? '?';
    return `${ip} ${mac.toLowerCase().replace(/\b0([0-9a-f])\b/g, '$1')} ${dev}`;
  });
}

describe.skipIf(!isRoot)('in-place upgrade from the Go agent (e2e)', () => {
  let stack: HostnicStack | undefined;
  let goNics: GoNic[] = [];
  let goPods: GoPod[] = [];
  const streams: PingStream[] = [];
  const s = (): HostnicStack => {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  };

  beforeAll(async () => {
    stack = await startHostnicStack({
      prefix: `up${randomBytes(2).toString('hex')}`,
      nodes: 1,
      agentsOn: [NODE],
      vxnets: [MGMT, PODS1, VLAN],
      ipam: { kind: 'direct', pools: [PODS1.id, VLAN.id], mapping: (blocksOf) => ({ Default: [PODS1.id], [VLAN_NAMESPACE]: blocksOf(VLAN.id) }) },
      beforeAgents: async ({ sandbox, kc }) => {
        ({ nics: goNics, pods: goPods } = await layOutGoNode(sandbox, kc));
        // The Go layout carries traffic both ways before this agent starts, so the streams measure the upgrade.
        for (const p of goPods) {
          const gateway = p.nic.vxnet.gateway;
          expect(await sandbox.ping(p.netns, gateway, { attempts: 3 }), `${p.name} → gateway under the Go layout`).toBe(true);
          expect(await sandbox.vpcPing(p.ip, { attempts: 3 }), `gateway → ${p.name} under the Go layout`).toBe(true);
          streams.push(startPingStream(`${p.name} → gateway`, p.netns.netns, gateway));
          streams.push(startPingStream(`gateway → ${p.name}`, sandbox.vpc.netns, p.ip));
        }
        await until('every ping stream to get replies', 20_000, async () => (streams.every((x) => x.replies() > 0) ? true : undefined));
      },
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(streams.map((x) => x.stop(0)));
    await stack?.close();
  }, 60_000);

  it('imports the Go agent\'s records once: its NICs keep their tables and bridges, its pods their addresses', async () => {
    const nics = await until('the imported NICs to be set up', 60_000, async () => {
      const list = await agentView<AgentNic>(s(), '/v1/nics', 'nics');
      return list.length === goNics.length && list.every((n) => n.phase === 'Succeeded') ? list : undefined;
    });
    expect(nics.map((n) => [n.nicId, n.routeTable, n.bridge]).sort()).toEqual(goNics.map((n) => [n.mac, n.table, n.bridge]).sort());
    const pods = await agentView<AgentPod>(s(), '/v1/pods', 'pods');
    expect(pods.map((p) => [p.podName, p.ip, p.hostVeth, p.containerId]).sort()).toEqual(
      goPods.map((p) => [p.name, p.ip, p.hostVeth, p.containerId]).sort(),
    );
    const marker = JSON.parse(await readFile(join(s().sandbox.node(NODE).paths.stateDir, 'agent', 'hostnic-go-import.json'), 'utf8')) as { state: string; nics: number; pods: number };
    expect(marker).toMatchObject({ state: 'done', nics: goNics.length, pods: goPods.length });
    expect((await s().handles()).length).toBe(goPods.length);
  }, 90_000);

  it('no pod lost a reply while the agent took over, either way', async () => {
    const tallies: PingTally[] = [];
    for (const stream of streams.splice(0)) tallies.push(await stream.stop());
    expect(tallies).toHaveLength(goPods.length * 2);
    for (const t of tallies) expect(t.replies, `${t.what} replies`).toBeGreaterThan(20);
    expect(tallies.map((t) => [t.what, t.lost])).toEqual(tallies.map((t) => [t.what, []]));
  }, 90_000);

  it('leaves this agent\'s layout and nothing stale: a table and bridge per NIC, one rule per pod and vxnet', async () => {
    const sb = s().sandbox;
    const snap = await readSnapshot({ netns: sb.node(NODE).netns, parts: ['links', 'routes', 'rules'] });
    for (const nic of goNics) {
      const spec = { mac: nic.mac, vxnetId: nic.vxnet.id, table: nic.table, network: nic.vxnet.cidr, gateway: nic.vxnet.gateway, tunnelType: nic.vxnet.tunnelType };
      expect(diffHostNic(snap, spec), nic.bridge).toEqual([]);
      expect(snap.links.filter((l) => l.master === nic.bridge).map((l) => l.name), `ports of ${nic.bridge}`).toEqual([nic.linkName]);
    }
    expect(snap.links.filter((l) => l.name.startsWith('br_')).map((l) => l.name).sort()).toEqual(goNics.map((n) => n.bridge).sort());
    // Only the VxLAN vxnet's table has routes; the VLAN vxnet's stays empty.
    expect([...new Set(snap.routes.filter((r) => r.table >= TABLE).map((r) => r.table))]).toEqual([TABLE]);
    expect(snap.rules.filter((r) => r.priority === 1536).map((r) => `${r.src ?? ''} ${String(r.table)}`).sort()).toEqual(goNics.map((n) => `${n.vxnet.cidr} ${n.table}`).sort());
    expect(snap.rules.filter((r) => r.priority === 1535).map((r) => r.dst).sort()).toEqual(goPods.map((p) => `${p.ip}/32`).sort());
    // However this agent answers ARP for its pods, no answer is left for an address no pod has, nor twice.
    const ips = (await arpReplies(sb)).map((r) => r.split(' ')[0]);
    expect(new Set(ips).size).toBe(ips.length);
    for (const ip of ips) expect(goPods.map((p) => p.ip)).toContain(ip);
    for (const p of goPods) {
      expect(await sb.vpcPing(p.ip, { attempts: 3 }), `gateway → ${p.name}`).toBe(true);
      const addr = (await sb.exec(p.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
      expect(addr).toContain(`inet ${p.ip}/32`);
    }
  }, 60_000);

  it('the VLAN bridge holds one address, the lease this agent recorded for it', async () => {
    const vlan = goNics.find((n) => n.vxnet.tunnelType === 'vlan');
    if (vlan === undefined) throw new Error('no Go NIC on the VLAN vxnet');
    const lease = (await agentView<AgentNic>(s(), '/v1/nics', 'nics')).find((n) => n.nicId === vlan.mac)?.dhcpLease;
    if (lease === undefined) throw new Error('no DHCP lease recorded for the imported VLAN NIC');
    const addrs = (await s().sandbox.exec(NODE, ['ip', '-4', '-o', 'addr', 'show', 'dev', vlan.bridge])).stdout.split('\n').flatMap((l) => /inet (\S+)/.exec(l)?.[1] ?? []);
    expect(addrs).toEqual([`${lease.address}/${lease.prefixLength}`]);
  }, 30_000);

  it('deletes an imported pod through the plugin and wires a new one on the same NIC', async () => {
    const sb = s().sandbox;
    const [gone, kept] = goPods.filter((p) => p.nic.vxnet.id === PODS1.id);
    if (gone === undefined || kept === undefined) throw new Error('two Go pods on the VxLAN vxnet expected');
    const del = await s().agent(NODE).plugin('DEL', { namespace: gone.namespace, name: gone.name, containerId: gone.containerId, netnsPath: gone.netns.path });
    expect(del.code, `${del.stdout}\n${del.stderr}`).toBe(0);
    const links = (await readSnapshot({ netns: sb.node(NODE).netns, parts: ['links', 'rules'] }));
    expect(links.links.some((l) => l.name === gone.hostVeth)).toBe(false);
    expect(links.rules.filter((r) => r.priority === 1535).map((r) => r.dst).sort()).toEqual(goPods.filter((p) => p !== gone).map((p) => `${p.ip}/32`).sort());
    expect((await arpReplies(sb)).some((r) => r.startsWith(`${gone.ip} `))).toBe(false);
    expect((await s().handles()).length).toBe(goPods.length - 1);

    const fresh = await s().createPod(NODE, NAMESPACE, 'web-3');
    const add = await s().agent(NODE).plugin('ADD', fresh.ref);
    expect(add.code, `${add.stdout}\n${add.stderr}`).toBe(0);
    const ip = (JSON.parse(add.stdout) as { ips?: { address: string }[] }).ips?.[0]?.address.split('/')[0] ?? '';
    expect(await sb.ping(fresh.netns, kept.nic.vxnet.gateway, { attempts: 3 }), 'web-3 → gateway').toBe(true);
    expect(await sb.ping(fresh.netns, kept.ip, { attempts: 3 }), 'web-3 → the kept Go pod').toBe(true);
    expect(await sb.vpcPing(ip, { attempts: 3 }), 'gateway → web-3').toBe(true);
    expect((await agentView<AgentNic>(s(), '/v1/nics', 'nics')).map((n) => n.routeTable).sort()).toEqual(goNics.map((n) => n.table).sort());
  }, 90_000);
});
