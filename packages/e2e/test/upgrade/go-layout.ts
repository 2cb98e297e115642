/**
 * A node as the Go agent (hostnic-cni 5afec528) left it, built with the same kernel calls it made, for the
 * upgrade test: its NIC created and attached in the IaaS under its name, renamed `hostnic_<vxnet>` with that
 * alias, enslaved to `br_<table>` (the bridge made without a MAC, so it takes the NIC's), table N with the
 * vxnet's link route and default route (a VLAN vxnet: table N empty, br_N addressed by DHCP instead), rule
 * 1536 `from <vxnet> lookup N`; per pod a veth whose host end is
 * named by the same hash, the pod's /32 with the permanent 169.254.1.1 neighbour and routes, the host's /32
 * route in main, rule 1535 `to <pod> lookup main` and the ebtables ARP reply on `--logical-in br_N` (or `-i
 * hostnic_<vxnet>` where ebtables refuses that); and its
 * LevelDB record per vxnet.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxNetwork, SandboxVxnet } from '@hostnic/sandbox/cluster';
import type { PodNamespace } from '@hostnic/sandbox/cluster';
import { clientFor } from '@hostnic/iaas-client/fake';
import { hostVethName, readLinks } from '@hostnic/netlink';
import { until } from '../../src/stack/index.ts';

export interface GoNic {
  readonly mac: string;
  readonly vxnet: SandboxVxnet;
  readonly table: number;
  readonly linkName: string;
  readonly bridge: string;
}

export interface GoPod {
  readonly namespace: string;
  readonly name: string;
  readonly containerId: string;
  readonly ip: string;
  readonly netns: PodNamespace;
  readonly hostVeth: string;
  /** The NIC of its vxnet. */
  readonly nic: GoNic;
}

async function sh(sb: SandboxNetwork, ns: string | PodNamespace, argv: readonly string[]): Promise<string> {
  const r = await sb.exec(ns, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${String(r.code)}): ${r.stderr}`);
  return r.stdout;
}

/** Creates the NIC as the Go agent named it and attaches it to the node; resolves once its link is there. */
export async function attachGoNic(sb: SandboxNetwork, node: string, vxnet: SandboxVxnet, table: number): Promise<GoNic> {
  const n = sb.node(node);
  const iaas = clientFor(sb.qingcloud);
  const [created] = await iaas.createNics({ vxnet: vxnet.id, nicName: `hostnic_${n.instanceId}`, count: 1, disableIp: true });
  if (created === undefined) throw new Error('CreateNics returned nothing');
  const mac = created.nicId.toLowerCase();
  const job = await iaas.attachNics({ nics: [created.nicId], instance: n.instanceId });
  if (job.jobId !== undefined) await iaas.waitJob(job.jobId);
  await until(`NIC ${mac} to appear on ${node}`, 30_000, async () =>
    (await readLinks({ netns: n.netns })).some((l) => l.mac.toLowerCase() === mac) ? true : undefined,
  );
  return { mac, vxnet, table, linkName: `hostnic_${vxnet.id.replace(/^vxnet-/, '')}`, bridge: `br_${table}` };
}

/**
 * udhcpc's script standing in for the Go agent's DHCP client: on a lease, the address with its lifetime on
 * the interface (replaceLinkIPAddr).
 */
const GO_DHCP_SCRIPT = `#!/bin/sh
[ "$1" = bound ] && ip addr replace "$ip/$mask" dev "$interface" valid_lft "$lease" preferred_lft "$lease"
exit 0
`;

/** The Go agent's setupNicNetwork, setupBridgeNetwork (DHCP on a VLAN bridge) and setupRouteTable. */
export async function layOutGoNic(sb: SandboxNetwork, node: string, nic: GoNic): Promise<void> {
  const link = (await readLinks({ netns: sb.node(node).netns })).find((l) => l.mac.toLowerCase() === nic.mac);
  if (link === undefined) throw new Error(`no link with MAC ${nic.mac} on ${node}`);
  const ip = (...args: string[]): Promise<string> => sh(sb, node, ['ip', ...args]);
  await ip('link', 'set', link.name, 'name', nic.linkName);
  await ip('link', 'set', nic.linkName, 'alias', nic.linkName);
  for (const [dev, key] of [[nic.linkName, 'arp_ignore'], ['all', 'rp_filter'], ['default', 'rp_filter'], [nic.linkName, 'rp_filter']] as const) {
    await sh(sb, node, ['sysctl', '-qw', `net.ipv4.conf.${dev}.${key}=${key === 'arp_ignore' ? 1 : 0}`]);
  }
  for (const dev of ['all', 'default', nic.linkName]) await sh(sb, node, ['sysctl', '-qw', `net.ipv4.conf.${dev}.accept_local=1`]);
  await ip('link', 'set', nic.linkName, 'up');
  await ip('link', 'add', nic.bridge, 'type', 'bridge');
  await ip('link', 'set', nic.linkName, 'master', nic.bridge);
  await ip('link', 'set', nic.bridge, 'up');
  if (nic.vxnet.tunnelType === 'vlan') {
    const script = join(sb.directory, `go-dhcp-${nic.bridge}.sh`);
    await writeFile(script, GO_DHCP_SCRIPT, { mode: 0o700 });
    await sh(sb, node, ['busybox', 'udhcpc', '-i', nic.bridge, '-f', '-q', '-n', '-t', '5', '-T', '1', '-s', script]);
  } else {
    await ip('route', 'add', nic.vxnet.cidr, 'dev', nic.bridge, 'scope', 'link', 'table', String(nic.table));
    await ip('route', 'add', 'default', 'via', nic.vxnet.gateway, 'dev', nic.bridge, 'table', String(nic.table));
  }
  await ip('rule', 'add', 'pref', '1536', 'from', nic.vxnet.cidr, 'lookup', String(nic.table));
}

/** The Go plugin's cmdAddVeth and the agent's SetupPodNetwork for one pod. */
export async function wireGoPod(
  sb: SandboxNetwork,
  node: string,
  nic: GoNic,
  pod: Omit<GoPod, 'hostVeth' | 'nic'>,
): Promise<GoPod> {
  const hostVeth = hostVethName(pod.namespace, pod.name);
  const peer = `tmp${pod.containerId.slice(0, 8)}`;
  const inPod = (...args: string[]): Promise<string> => sh(sb, pod.netns, ['ip', ...args]);
  const onNode = (...args: string[]): Promise<string> => sh(sb, node, ['ip', ...args]);
  await onNode('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peer);
  await onNode('link', 'set', peer, 'netns', pod.netns.path);
  await inPod('link', 'set', peer, 'name', 'eth0');
  await inPod('link', 'set', 'eth0', 'up');
  await onNode('link', 'set', hostVeth, 'up');
  // ip.EnableForward of the Go plugin's ADD.
  await sh(sb, node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await sh(sb, node, ['sysctl', '-qw', `net.ipv4.conf.${hostVeth}.rp_filter=0`]);
  const hostMac = (await readLinks({ netns: sb.node(node).netns })).find((l) => l.name === hostVeth)?.mac;
  if (hostMac === undefined) throw new Error(`${hostVeth} vanished`);
  await inPod('addr', 'add', `${pod.ip}/32`, 'dev', 'eth0');
  await inPod('neigh', 'add', '169.254.1.1', 'lladdr', hostMac, 'dev', 'eth0', 'nud', 'permanent');
  await inPod('route', 'add', '169.254.1.1/32', 'dev', 'eth0', 'scope', 'link');
  await inPod('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'src', pod.ip);
  await onNode('route', 'add', `${pod.ip}/32`, 'dev', hostVeth, 'scope', 'link');
  await onNode('rule', 'add', 'pref', '1535', 'to', `${pod.ip}/32`, 'lookup', 'main');
  const arpReply = (match: readonly string[]): Promise<string> => sh(sb, node, [
    'ebtables', '-t', 'nat', '-I', 'PREROUTING', '-p', 'ARP', ...match, '--arp-op', 'Request',
    '--arp-ip-dst', pod.ip, '-j', 'arpreply', '--arpreply-mac', nic.mac,
  ]);
  // The Go agent's form; ebtables on nf_tables refuses --logical-in, and there the entry matches the NIC itself
  // (the form operators used by hand, and the one this agent falls back to): both are what an upgrade finds.
  await arpReply(['--logical-in', nic.bridge]).catch(() => arpReply(['-i', nic.linkName]));
  return { ...pod, hostVeth, nic };
}

/** The Go agent's LevelDB value for a vxnet: Go's JSON of `{Nic, Pods}` (field names and spellings as Go wrote them). */
export function goRecordValue(nic: GoNic, pods: readonly GoPod[]): string {
  return JSON.stringify({
    Nic: {
      VxNet: { ID: nic.vxnet.id, Gateway: nic.vxnet.gateway, Network: nic.vxnet.cidr, TunnelType: nic.vxnet.tunnelType },
      ID: nic.mac,
      HardwareAddr: nic.mac,
      Reserved: true,
      RouteTableNum: nic.table,
      Phase: 4,
    },
    Pods: Object.fromEntries(pods.map((p) => [p.containerId, {
      Name: p.name, Namespace: p.namespace, Containter: p.containerId, PodIP: p.ip, IfName: 'eth0', Netns: p.netns.path, VxNet: nic.vxnet.id,
    }])),
  });
}
