/**
 * What a test records when the VPC cannot reach a pod: the node's dataplane, the VPC side and the agent's view,
 * read at that moment. `facts` is a short verdict for the failure message (each check that decides where a
 * packet stops: the ARP answer, the route, the VPC's neighbour entry, pings from either side); `report` is the
 * full capture (kept in the test's log dir), enough to find the cause without running the test again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodNamespace } from '@hostnic/sandbox/cluster';
import { socketGet } from './harness.ts';
import type { AgentCluster } from './harness.ts';

export interface UnreachablePod {
  readonly key: string;
  readonly node: string;
  readonly ip: string;
  readonly vxnetId: string;
  readonly netns: PodNamespace;
}

export interface UnreachableCapture {
  /** One line: what each check found. */
  readonly facts: string;
  /** Every section, as text. */
  readonly report: string;
  /** Where the report was written, when a directory was given. */
  readonly file?: string | undefined;
}

/** Agent log lines kept in the report: the most recent, and the most recent warnings and errors. */
const RECENT_LOG_LINES = 60;
const RECENT_WARNINGS = 30;

/** The sysctls that decide whether a node answers ARP for a pod and forwards to it. */
const SYSCTL_GLOBS = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv4/conf/*/forwarding',
  '/proc/sys/net/ipv4/conf/*/rp_filter',
  '/proc/sys/net/ipv4/conf/*/proxy_arp',
  '/proc/sys/net/ipv4/conf/*/arp_ignore',
  '/proc/sys/net/ipv4/conf/*/accept_local',
  '/proc/sys/net/ipv4/neigh/br_*/proxy_delay',
  '/proc/sys/net/ipv4/neigh/br_*/proxy_qlen',
];

interface Section {
  readonly title: string;
  readonly text: string;
}

async function sh(c: AgentCluster, ns: Parameters<AgentCluster['sandbox']['exec']>[0], argv: readonly string[]): Promise<string> {
  try {
    const r = await c.sandbox.exec(ns, argv, { timeoutMs: 10_000 });
    return `${r.stdout}${r.stderr === '' ? '' : `[stderr] ${r.stderr}`}${r.code === 0 ? '' : `[exit ${String(r.code ?? r.signal)}]`}`;
  } catch (e) {
    return `[failed: ${e instanceof Error ? e.message : String(e)}]`;
  }
}

async function pingOnce(c: AgentCluster, ns: Parameters<AgentCluster['sandbox']['exec']>[0], ip: string): Promise<string> {
  try {
    return (await c.sandbox.ping(ns, ip, { attempts: 2 })) ? 'ok' : 'FAIL';
  } catch (e) {
    return `error (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** The NIC links (`hostnic_*`) and the bridges they are ports of, from `ip -o link`. */
export function nicBridges(linkText: string): { nic: string; master: string | undefined; up: boolean }[] {
  const found: { nic: string; master: string | undefined; up: boolean }[] = [];
  for (const line of linkText.split('\n')) {
    const name = /^\d+: (hostnic_[^:@\s]+)/.exec(line)?.[1];
    if (name === undefined) continue;
    found.push({ nic: name, master: / master (\S+)/.exec(line)?.[1], up: /<[^>]*\bUP\b[^>]*>/.test(line) });
  }
  return found;
}

/** The devices that carry a proxy neighbour entry for `ip`, from `ip neigh show proxy`. */
export function proxyDevs(proxyText: string, ip: string): string[] {
  return proxyText
    .split('\n')
    .filter((l) => l.startsWith(`${ip} `))
    .map((l) => / dev (\S+)/.exec(l)?.[1] ?? '?');
}

/** Names the node whose NIC has each MAC in `text` (neighbour entries, bridge fdb), so a reader sees who answered. */
export function withMacOwners(text: string, owners: ReadonlyMap<string, string>): string {
  return text.replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi, (mac: string) => {
    const owner = owners.get(mac.toLowerCase());
    return owner === undefined ? mac : `${mac} (${owner})`;
  });
}

/** The agent's log, cut to what a reader of a failure needs: the latest lines and the latest warnings. */
export function recentLog(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const warnings = lines.filter((l) => /"level":"(warn|error|fatal)"/.test(l)).slice(-RECENT_WARNINGS);
  return [`-- last ${RECENT_WARNINGS} warnings/errors --`, ...warnings, `-- last ${RECENT_LOG_LINES} lines --`, ...lines.slice(-RECENT_LOG_LINES)].join('\n');
}

/**
 * Reads everything at once, then derives the facts. `logDir`: where the report goes, as
 * `unreachable-<node>-<pod>.txt`.
 */
export async function captureUnreachable(c: AgentCluster, pod: UnreachablePod, logDir?: string): Promise<UnreachableCapture> {
  const vxnet = c.sandbox.vxnet(pod.vxnetId);
  const node = pod.node;
  const links = await sh(c, node, ['ip', '-o', 'link', 'show']);
  const nics = nicBridges(links);
  const bridge = nics.find((n) => n.master?.startsWith('br_') === true)?.master;
  const proxy = await sh(c, node, ['ip', 'neigh', 'show', 'proxy']);
  const rules = await sh(c, node, ['ip', 'rule', 'show']);
  const routeGetNode = bridge === undefined
    ? '[no NIC bridge to ask from]'
    : await sh(c, node, ['ip', 'route', 'get', pod.ip, 'from', vxnet.gateway, 'iif', bridge]);
  const routeGetReply = await sh(c, node, ['ip', 'route', 'get', vxnet.gateway, 'from', pod.ip]);
  // Read per device by the kernel: a bridge without it answers no ARP for its pods.
  const forwardingOf = ['all', 'default', ...(bridge === undefined ? [] : [bridge])];
  const forwarding = (await sh(c, node, ['cat', ...forwardingOf.map((d) => `/proc/sys/net/ipv4/conf/${d}/forwarding`)])).trim().split('\n');
  // MAC → "<node>'s NIC": the VPC's neighbour entry then says which node it sends the pod's traffic to.
  const owners = new Map<string, string>();
  for (const n of c.sandbox.qingcloud.nics()) {
    const owner = c.sandbox.nodeByInstance(n.instance_id)?.name;
    if (owner !== undefined) owners.set(n.nic_id.toLowerCase(), `${owner}'s ${n.role === 1 ? 'eth0' : 'NIC'}`);
  }
  const vpcNeigh = withMacOwners(await sh(c, 'vpc', ['ip', 'neigh', 'show', pod.ip]), owners);
  const vpcRouteGet = await sh(c, 'vpc', ['ip', 'route', 'get', pod.ip]);
  // Active checks last, so that the passive reads show the state before any new ARP exchange.
  const nodeToPod = await pingOnce(c, node, pod.ip);
  const podToGateway = await pingOnce(c, pod.netns, vxnet.gateway);
  const vpcToPod = await pingOnce(c, 'vpc', pod.ip);
  const vpcNeighAfter = withMacOwners(await sh(c, 'vpc', ['ip', 'neigh', 'show', pod.ip]), owners);

  const rule1535 = rules.split('\n').some((l) => l.startsWith('1535:') && l.includes(`to ${pod.ip} `));
  // Another node that answers ARP for the same address (a stale entry, or the address given twice) takes the
  // VPC's traffic for it.
  const elsewhere: string[] = [];
  for (const other of c.sandbox.nodes.filter((n) => n.name !== node)) {
    const devs = proxyDevs(await sh(c, other.name, ['ip', 'neigh', 'show', 'proxy']), pod.ip);
    if (devs.length > 0) elsewhere.push(`${other.name} (${devs.join(',')})`);
  }
  const facts = [
    `NICs ${nics.length === 0 ? 'none' : nics.map((n) => `${n.nic}${n.up ? '' : ' DOWN'} in ${n.master ?? 'no bridge'}`).join(', ')}`,
    `proxy entry on ${proxyDevs(proxy, pod.ip).join(',') || 'NONE'}`,
    `rule 1535 ${rule1535 ? 'yes' : 'NO'}`,
    `other nodes answering ARP for it: ${elsewhere.join(', ') || 'none'}`,
    `forwarding ${forwardingOf.map((d, i) => `${d}=${forwarding[i] ?? '?'}`).join(' ')}`,
    `node route get from gw: ${routeGetNode.trim().split('\n')[0] ?? ''}`,
    `vpc neigh: ${vpcNeigh.trim() || 'none'} (after pings: ${vpcNeighAfter.trim() || 'none'})`,
    `ping node->pod ${nodeToPod}, pod->gw ${podToGateway}, vpc->pod ${vpcToPod}`,
  ].join('; ');

  const agent = c.agent(node);
  const sections: Section[] = [
    { title: 'facts', text: facts },
    { title: `${node}: ip -d link`, text: await sh(c, node, ['ip', '-d', 'link', 'show']) },
    { title: `${node}: ip addr`, text: await sh(c, node, ['ip', 'addr', 'show']) },
    { title: `${node}: ip neigh show proxy`, text: proxy },
    { title: `${node}: ip neigh`, text: await sh(c, node, ['ip', 'neigh', 'show']) },
    { title: `${node}: ip rule`, text: rules },
    { title: `${node}: ip route show table all (without local/kernel tables)`, text: filterRoutes(await sh(c, node, ['ip', 'route', 'show', 'table', 'all'])) },
    { title: `${node}: ip route get ${pod.ip} from ${vxnet.gateway} iif ${bridge ?? '?'}`, text: routeGetNode },
    { title: `${node}: ip route get ${vxnet.gateway} from ${pod.ip}`, text: routeGetReply },
    { title: `${node}: bridge link`, text: await sh(c, node, ['bridge', 'link', 'show']) },
    { title: `${node}: bridge fdb`, text: await sh(c, node, ['bridge', 'fdb', 'show']) },
    { title: `${node}: sysctls`, text: await sh(c, node, ['sh', '-c', `grep -H . ${SYSCTL_GLOBS.join(' ')} 2>/dev/null`]) },
    { title: `${node}: kernel counters (nstat -asz: where packets were dropped)`, text: await sh(c, node, ['nstat', '-asz']) },
    { title: `${node}: ebtables -t nat -L`, text: await sh(c, node, ['ebtables', '-t', 'nat', '-L']) },
    { title: `pod ${pod.key}: ip addr; ip route; ip neigh`, text: (await Promise.all([['ip', 'addr'], ['ip', 'route'], ['ip', 'neigh']].map((a) => sh(c, pod.netns, a)))).join('\n') },
    { title: `vpc: ip neigh show ${pod.ip} (before / after the pings)`, text: `${vpcNeigh}\n${vpcNeighAfter}` },
    { title: `vpc: ip route get ${pod.ip}`, text: vpcRouteGet },
    { title: 'vpc: ip -d link', text: await sh(c, 'vpc', ['ip', '-d', 'link', 'show']) },
    { title: 'vpc: ip neigh', text: withMacOwners(await sh(c, 'vpc', ['ip', 'neigh', 'show']), owners) },
    { title: `vpc: bridge fdb (vxnet bridge ${vxnet.bridge})`, text: withMacOwners(await sh(c, 'vpc', ['bridge', 'fdb', 'show', 'br', vxnet.bridge]), owners) },
    { title: 'vpc: bridge link', text: await sh(c, 'vpc', ['bridge', 'link', 'show']) },
    { title: 'vpc: kernel counters (nstat -asz)', text: await sh(c, 'vpc', ['nstat', '-asz']) },
    { title: 'machine: ARP table statistics (/proc/net/stat/arp_cache; table_fulls counts a full neighbour table)', text: await sh(c, 'vpc', ['cat', '/proc/net/stat/arp_cache']) },
    { title: `agent on ${node}: GET /v1/nics`, text: JSON.stringify((await socketGet(agent.socket, '/v1/nics'))?.body ?? 'no answer', null, 1) },
    { title: `agent on ${node}: GET /v1/pods`, text: JSON.stringify((await socketGet(agent.socket, '/v1/pods'))?.body ?? 'no answer', null, 1) },
    { title: 'fake IaaS: NICs', text: c.sandbox.qingcloud.nics().map((n) => JSON.stringify(n)).join('\n') },
    { title: 'fake IaaS: host events', text: c.sandbox.qingcloud.events().map((e) => JSON.stringify(e)).join('\n') },
    { title: 'sandbox host hook errors', text: c.sandbox.hookErrors().map((e) => e.message).join('\n') || 'none' },
    { title: `agent on ${node}: log`, text: recentLog(agent.child.output()) },
  ];
  const report = sections.map((s) => `== ${s.title}\n${s.text.trimEnd()}\n`).join('\n');
  if (logDir === undefined) return { facts, report };
  await mkdir(logDir, { recursive: true });
  const file = join(logDir, `unreachable-${node}-${pod.key}.txt`);
  await writeFile(file, report);
  return { facts, report, file };
}

/** Routes of the tables that can matter to pod traffic: main and ours, not the kernel's local table. */
export function filterRoutes(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/\btable (local|255)\b/.test(l) && !l.startsWith('local ') && !l.startsWith('broadcast ') && !/^(multicast|anycast) /.test(l))
    .join('\n');
}
