/**
 * The demo behind `npm start`: hostnic on one machine, narrated. A VPC with a management vxnet and two pod
 * vxnets, two nodes, the fake QingCloud and an empty kube-apiserver; hostnic installed by the README's steps
 * with kubectl; `hostnic-controller` and one `hostnic-agent` per node as real processes reading the files
 * their manifests mount, pods as network namespaces wired by the installed plugin; then the traffic that shows
 * what hostnic is for (pod to pod across nodes, the VPC reaching a pod at its own address), the operator's
 * view, and a clean teardown.
 */
import { randomBytes } from 'node:crypto';
import { parseIpamConfig } from '@hostnic/ipam';
import { sweepOrphans } from '@hostnic/sandbox/cluster';
import type { PodNamespace } from '@hostnic/sandbox/cluster';
import { nodeLeftovers, startHostnicStack, until } from '../stack/index.ts';
import type { HostnicStack, PodRef } from '../stack/index.ts';

export interface DemoOptions {
  /** Where the narration goes. */
  readonly write: (text: string) => void;
  /** Keep everything running until this resolves (e.g. Ctrl-C), to look around. */
  readonly keepUntil?: Promise<void> | undefined;
  readonly prefix?: string;
}

export interface DemoPod {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly ip: string;
}

export interface DemoResult {
  readonly pods: readonly DemoPod[];
  /** Each check by name: passed or not. */
  readonly checks: readonly { readonly name: string; readonly ok: boolean }[];
  /** Whatever was left on the nodes after DEL (empty when clean). */
  readonly leftovers: readonly string[];
  readonly seconds: number;
}

export class DemoNeedsRootError extends Error {
  override name = 'DemoNeedsRootError';

  constructor() {
    super('the demo builds network namespaces, veth pairs and bridges: run it as root (sudo npm start); it never changes the machine\'s own network');
  }
}

const POD_VXNETS = [
  { id: 'vxnet-demo001', cidr: '172.16.3.0/24' },
  { id: 'vxnet-demo002', cidr: '172.16.4.0/24' },
] as const;

const PODS = [
  { name: 'web-1', namespace: 'shop', node: 'node-1' },
  { name: 'web-2', namespace: 'shop', node: 'node-2' },
  { name: 'db-1', namespace: 'billing', node: 'node-2' },
] as const;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `    ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()).join('\n');
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  if (process.getuid?.() !== 0) throw new DemoNeedsRootError();
  const out = (text = ''): void => options.write(`${text}\n`);
  const step = (text: string): void => out(`\n== ${text}`);
  const started = performance.now();
  const checks: { name: string; ok: boolean }[] = [];
  const check = (name: string, ok: boolean): void => {
    checks.push({ name, ok });
    out(`    ${ok ? 'ok  ' : 'FAIL'} ${name}`);
  };

  step('Building a cluster on this machine');
  const swept = await sweepOrphans();
  if (swept.length > 0) out(`    removed what killed runs left: ${swept.join(', ')}`);
  const stack: HostnicStack = await startHostnicStack({
    prefix: options.prefix ?? `hd${randomBytes(2).toString('hex')}`,
    nodes: 2,
    agentsOn: ['node-1', 'node-2'],
    vxnets: [{ id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true }, ...POD_VXNETS],
    ipam: { kind: 'controller', vxnets: POD_VXNETS.map((v) => v.id), blockSize: 27, ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}' } },
    install: 'documented',
    installCni: true,
    onInstallStep: (s) => {
      if (s.index === 1) step("Installing hostnic by the README's steps: kubectl, as written, into an empty cluster");
    },
    onProgress: (m) => out(`    ${m}`),
  });
  try {
    const sb = stack.sandbox;
    step('VxNetPool v-pool, as hostnic-controller left it');
    const status = stack.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean; pools?: { name: string; subnets?: string[] }[] } | undefined;
    out(`    ready: ${String(status?.ready)}`);
    for (const p of status?.pools ?? []) {
      const vips = sb.qingcloud.vips().filter((v) => v.vxnet_id === p.name).length;
      out(`    ${p.name}: ${p.subnets?.length ?? 0} blocks (${(p.subnets ?? []).slice(0, 2).join(', ')}, ...), pod range pinned by ${vips} VIPs hostnic_${p.name}`);
    }

    step('Two namespaces appear; auto mode gives each its own block');
    const wired: { ref: PodRef; netns: PodNamespace; pod: (typeof PODS)[number]; ip: string }[] = [];
    for (const pod of PODS) {
      const { ref, netns } = await stack.createPod(pod.node, pod.namespace, pod.name);
      wired.push({ ref, netns, pod, ip: '' });
    }
    const mapping = await until('namespaces mapped', 30_000, async () => {
      const cm = stack.kube.get('configmaps', 'hostnic-ipam-config', 'kube-system') as { data?: Record<string, string> } | undefined;
      const m = parseIpamConfig(cm?.data).namespaces;
      return m.has('shop') && m.has('billing') ? m : undefined;
    });
    for (const ns of ['shop', 'billing']) out(`    ${ns} → ${(mapping.get(ns) ?? []).join(', ')}`);

    step('kubelet runs /opt/cni/bin/hostnic ADD for each pod');
    const rows: string[][] = [['POD', 'NODE', 'IP', 'ADD']];
    for (const w of wired) {
      const t0 = performance.now();
      const add = await stack.agent(w.pod.node).plugin('ADD', w.ref);
      const ms = performance.now() - t0;
      if (add.code !== 0) throw new Error(`ADD of ${w.pod.namespace}/${w.pod.name} failed: ${add.stdout}${add.stderr}`);
      w.ip = (JSON.parse(add.stdout) as { ips?: { address: string }[] }).ips?.[0]?.address.split('/')[0] ?? '?';
      rows.push([`${w.pod.namespace}/${w.pod.name}`, w.pod.node, w.ip, `${ms.toFixed(0)} ms`]);
    }
    out(table(rows));
    const nics = sb.qingcloud.nics().filter((n) => n.nic_name.startsWith('hostnic_'));
    out(`    NICs hostnic made and attached through the IaaS: ${nics.map((n) => `${n.nic_id} (${n.vxnet_id} on ${n.instance_id})`).join(', ')}`);

    step('Traffic: pod addresses are VPC addresses, no overlay, no NAT');
    const [web1, web2, db1] = wired;
    if (web1 === undefined || web2 === undefined || db1 === undefined) throw new Error('pods missing');
    check(`web-1 (node-1) → web-2 (node-2) ${web2.ip}`, await sb.ping(web1.netns, web2.ip, { attempts: 3 }));
    check(`web-2 → db-1 (same node, other namespace) ${db1.ip}`, await sb.ping(web2.netns, db1.ip, { attempts: 3 }));
    check(`the VPC router → web-1 ${web1.ip}, at the pod's own address`, await sb.vpcPing(web1.ip, { attempts: 3 }));

    step('What an operator sees: hostnic-controller ipam show --show-namespaces');
    const show = await stack.controllerCli(['ipam', 'show', '--show-namespaces']);
    out(show.stdout.trimEnd().split('\n').map((l) => `    ${l}`).join('\n'));
    // The nodes publish their pods' addresses in the background (a warm ADD writes nothing): the check is
    // asked again until the cluster has caught up, and what it still finds is shown.
    let ipamCheck = await stack.controllerCli(['ipam', 'check']);
    await until('ipam check to find nothing wrong', 30_000, async () => {
      if (ipamCheck.code !== 0) ipamCheck = await stack.controllerCli(['ipam', 'check']);
      return ipamCheck.code === 0 ? true : undefined;
    }).catch(() => undefined);
    if (ipamCheck.code !== 0) out(`${ipamCheck.stdout}${ipamCheck.stderr}`.trimEnd());
    check('hostnic-controller ipam check finds nothing wrong', ipamCheck.code === 0);

    if (options.keepUntil !== undefined) {
      step('Running; press Ctrl-C to tear down');
      out(`    nodes: ${sb.nodes.map((n) => `ip netns exec ${n.netnsName} bash`).join('   ')}`);
      out(`    pods:  ${wired.map((w) => `ip netns exec ${w.netns.name} ip addr`).join('   ')}`);
      out(`    API:   KUBECONFIG=${stack.kubeconfigFile} (the fake kube-apiserver)`);
      await options.keepUntil;
    }

    step('kubelet runs DEL for each pod');
    for (const w of wired) {
      const del = await stack.agent(w.pod.node).plugin('DEL', w.ref);
      if (del.code !== 0) throw new Error(`DEL of ${w.pod.namespace}/${w.pod.name} failed: ${del.stdout}${del.stderr}`);
    }
    const leftovers: string[] = [];
    for (const node of ['node-1', 'node-2']) {
      const left = await nodeLeftovers(sb, node);
      leftovers.push(...left.links.map((l) => `${node}: link ${l}`), ...left.rules.map((r) => `${node}: rule ${r}`), ...left.arp.map((a) => `${node}: ${a}`));
    }
    // Node claims publish releases in the background: wait for it (bounded) before judging.
    const owners = await stack.handlesWhen(0).catch(() => stack.handles());
    check('every address back in the IPAM (no pod owns an address)', owners.length === 0);
    check('no pod link, rule or ARP entry left on the nodes', leftovers.length === 0);
    return {
      pods: wired.map((w) => ({ name: w.pod.name, namespace: w.pod.namespace, node: w.pod.node, ip: w.ip })),
      checks,
      leftovers,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    step('Tearing down (namespaces, links, processes, fakes)');
    await stack.close();
  }
}
