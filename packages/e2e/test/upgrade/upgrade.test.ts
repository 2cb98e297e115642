/**
 * In-place upgrade from the Go agent, end to end, as root: node-1 is laid out exactly as the Go agent leaves a
 * node (go-layout.ts: its NIC attached in the fake IaaS, br_260, table 260, rules 1535/1536, the ebtables ARP
 * replies, two pods wired by its plugin, its LevelDB records) with the pods' addresses held in IPAM, and pods
 * ping the gateway (and the VPC router pings them) every 100 ms while this agent starts on that node. Then:
 * no reply was lost, the agent holds the Go agent's NIC and pods under the same table and addresses, nothing
 * stale is left, and the imported pods are deleted and new ones added as if this agent had wired them.
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Ipam, podHandleId } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
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
const TABLE = 260;

interface AgentNic { nicId: string; routeTable: number; bridge: string; phase: string }
interface AgentPod { podName: string; ip: string; hostVeth: string; containerId: string }

/** What the Go agent left: its NIC and pods, each pod's addresses held in IPAM under the handle the plugin named. */
async function layOutGoNode(sb: SandboxNetwork, kc: KubeConfig): Promise<{ nic: GoNic; pods: GoPod[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  const store = KubernetesIpamStore.fromKubeConfig(kc);
  const nic = await attachGoNic(sb, NODE, sb.vxnet(PODS1.id), TABLE);
  await layOutGoNic(sb, NODE, nic);
  const pods: GoPod[] = [];
  try {
    const ipam = new Ipam(store);
    for (const name of ['web-1', 'web-2']) {
      await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name, namespace: NAMESPACE }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'pause' }] } } });
      const containerId = randomBytes(32).toString('hex');
      const { address: ip } = await ipam.allocate({ handleId: podHandleId(NAMESPACE, name, containerId).id, namespace: NAMESPACE, pod: name, node: NODE });
      const netns = await sb.podNetns(NODE, `${NAMESPACE}-${name}`);
      pods.push(await wireGoPod(sb, NODE, nic, { namespace: NAMESPACE, name, containerId, ip, netns }));
    }
  } finally {
    await store.close();
  }
  await writeLevelDb(join(sb.node(NODE).paths.stateDir, 'agent'), new Map([[nic.vxnet.id, goRecordValue(nic, pods)]]));
  return { nic, pods };
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
  let goNic: GoNic;
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
      vxnets: [MGMT, PODS1],
      ipam: { kind: 'direct', pools: [PODS1.id], mapping: () => ({ Default: [PODS1.id] }) },
      beforeAgents: async ({ sandbox, kc }) => {
        ({ nic: goNic, pods: goPods } = await layOutGoNode(sandbox, kc));
        // The Go layout carries traffic both ways before this agent starts, so the streams measure the upgrade.
        for (const p of goPods) {
          expect(await sandbox.ping(p.netns, goNic.vxnet.gateway, { attempts: 3 }), `${p.name} → gateway under the Go layout`).toBe(true);
          expect(await sandbox.vpcPing(p.ip, { attempts: 3 }), `gateway → ${p.name} under the Go layout`).toBe(true);
          streams.push(startPingStream(`${p.name} → gateway`, p.netns.netns, goNic.vxnet.gateway));
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

  it('imports the Go agent\'s records once: its NIC keeps table 260 and br_260, its pods their addresses', async () => {
    const nics = await until('the imported NIC to be set up', 60_000, async () => {
      const list = await agentView<AgentNic>(s(), '/v1/nics', 'nics');
      return list.length === 1 && list[0]?.phase === 'Succeeded' ? list : undefined;
    });
    expect(nics.map((n) => [n.nicId, n.routeTable, n.bridge])).toEqual([[goNic.mac, TABLE, goNic.bridge]]);
    const pods = await agentView<AgentPod>(s(), '/v1/pods', 'pods');
    expect(pods.map((p) => [p.podName, p.ip, p.hostVeth, p.containerId]).sort()).toEqual(
      goPods.map((p) => [p.name, p.ip, p.hostVeth, p.containerId]).sort(),
    );
    const marker = JSON.parse(await readFile(join(s().sandbox.node(NODE).paths.stateDir, 'agent', 'hostnic-go-import.json'), 'utf8')) as { state: string; nics: number; pods: number };
    expect(marker).toMatchObject({ state: 'done', nics: 1, pods: 2 });
    expect((await s().handles()).length).toBe(2);
  }, 90_000);

  it('no pod lost a reply while the agent took over, either way', async () => {
    const tallies: PingTally[] = [];
    for (const stream of streams.splice(0)) tallies.push(await stream.stop());
    for (const t of tallies) expect(t.replies, `${t.what} replies`).toBeGreaterThan(20);
    expect(tallies.map((t) => [t.what, t.lost])).toEqual(tallies.map((t) => [t.what, []]));
  }, 90_000);

  it('leaves this agent\'s layout and nothing stale: one table, one bridge with its NIC, one rule per pod and vxnet', async () => {
    const sb = s().sandbox;
    const snap = await readSnapshot({ netns: sb.node(NODE).netns, parts: ['links', 'routes', 'rules'] });
    const spec = { mac: goNic.mac, vxnetId: goNic.vxnet.id, table: TABLE, network: goNic.vxnet.cidr, gateway: goNic.vxnet.gateway, tunnelType: 'vxlan' };
    expect(diffHostNic(snap, spec)).toEqual([]);
    expect(snap.links.filter((l) => l.name.startsWith('br_')).map((l) => l.name)).toEqual([goNic.bridge]);
    expect(snap.links.filter((l) => l.master === goNic.bridge).map((l) => l.name)).toEqual([goNic.linkName]);
    expect([...new Set(snap.routes.filter((r) => r.table >= TABLE).map((r) => r.table))]).toEqual([TABLE]);
    expect(snap.rules.filter((r) => r.priority === 1536).map((r) => `${r.src ?? ''} ${String(r.table)}`)).toEqual([`${goNic.vxnet.cidr} ${TABLE}`]);
    const podRules = snap.rules.filter((r) => r.priority === 1535).map((r) => r.dst).sort();
    expect(podRules).toEqual(goPods.map((p) => `${p.ip}/32`).sort());
    // However this agent answers ARP for its pods, no answer is left for an address no pod has, nor twice.
    const replies = await arpReplies(sb);
    const ips = replies.map((r) => r.split(' ')[0]);
    expect(new Set(ips).size).toBe(ips.length);
    for (const ip of ips) expect(goPods.map((p) => p.ip)).toContain(ip);
    for (const p of goPods) {
      expect(await sb.vpcPing(p.ip, { attempts: 3 }), `gateway → ${p.name}`).toBe(true);
      const addr = (await sb.exec(p.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
      expect(addr).toContain(`inet ${p.ip}/32`);
    }
  }, 60_000);

  it('deletes an imported pod through the plugin and wires a new one on the same NIC', async () => {
    const sb = s().sandbox;
    const [gone, kept] = goPods;
    if (gone === undefined || kept === undefined) throw new Error('two Go pods expected');
    const del = await s().agent(NODE).plugin('DEL', { namespace: gone.namespace, name: gone.name, containerId: gone.containerId, netnsPath: gone.netns.path });
    expect(del.code, `${del.stdout}\n${del.stderr}`).toBe(0);
    const links = (await readSnapshot({ netns: sb.node(NODE).netns, parts: ['links', 'rules'] }));
    expect(links.links.some((l) => l.name === gone.hostVeth)).toBe(false);
    expect(links.rules.filter((r) => r.priority === 1535).map((r) => r.dst)).toEqual([`${kept.ip}/32`]);
    expect((await arpReplies(sb)).some((r) => r.startsWith(`${gone.ip} `))).toBe(false);
    expect((await s().handles()).length).toBe(1);

    const fresh = await s().createPod(NODE, NAMESPACE, 'web-3');
    const add = await s().agent(NODE).plugin('ADD', fresh.ref);
    expect(add.code, `${add.stdout}\n${add.stderr}`).toBe(0);
    const ip = (JSON.parse(add.stdout) as { ips?: { address: string }[] }).ips?.[0]?.address.split('/')[0] ?? '';
    expect(await sb.ping(fresh.netns, goNic.vxnet.gateway, { attempts: 3 }), 'web-3 → gateway').toBe(true);
    expect(await sb.ping(fresh.netns, kept.ip, { attempts: 3 }), 'web-3 → the kept Go pod').toBe(true);
    expect(await sb.vpcPing(ip, { attempts: 3 }), 'gateway → web-3').toBe(true);
    expect((await agentView<AgentNic>(s(), '/v1/nics', 'nics')).map((n) => n.routeTable)).toEqual([TABLE]);
  }, 90_000);
});
