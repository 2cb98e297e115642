import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AddRequest, Attachment, PluginConfig } from '@hostnic/protocol';
import { Ipam, MemoryIpamStore, newIPPool, podHandleId, podRangeOfVxnet } from '@hostnic/ipam';
import { readSnapshot } from '@hostnic/netlink';
import type { ArpReplyEntry, Snapshot } from '@hostnic/netlink';
import { listEbtablesChain, listProxyNeighbours } from '@hostnic/netlink';
// Relative on purpose: the agent must not depend on the private sandbox package.
import { startSandboxNetwork } from '@hostnic/sandbox/cluster';
import type { PodNamespace, SandboxNetwork } from '@hostnic/sandbox/cluster';
import { AgentDatastore } from '../../src/datastore/index.ts';
import { NicManager } from '../../src/nics/index.ts';
import { PodService, cachedVxnetLookup } from '../../src/pods/index.ts';
import type { PodAnnotations, PodServiceOptions } from '../../src/pods/index.ts';
import { clientFor } from '../nics/helpers.ts';

export const isRoot = process.getuid?.() === 0;
export const POD_VXNET = { id: 'vxnet-pods001', cidr: '172.16.3.0/24', gateway: '172.16.3.1' } as const;

export const CONFIG: PluginConfig = {
  cniVersion: '1.0.0',
  name: 'hostnic',
  vethPrefix: 'vnic',
  mtu: 1500,
  serviceCIDR: '10.96.0.0/12',
  natMark: '0x10000/0x10000',
  interface: 'eth0',
  hairpin: false,
};

export interface PodHarness {
  sandbox: SandboxNetwork;
  store: AgentDatastore;
  ipamStore: MemoryIpamStore;
  ipam: Ipam;
  nics: NicManager;
  instanceId: string;
  iaas: ReturnType<typeof clientFor>;
  service: PodService;
  /** Another service over the same node, IPAM and datastore, with some dependencies replaced. */
  serviceWith(overrides: Partial<PodServiceOptions>): PodService;
  dir: string;
  lockPath: string;
  /** What the injected Kubernetes read answers; a thrown error simulates an unreachable API server. */
  annotations: PodAnnotations;
  podNetns(name: string): Promise<PodNamespace>;
  attachment(pod: PodNamespace, containerId?: string): Attachment;
  addRequest(pod: PodNamespace, containerId?: string): AddRequest;
  close(): Promise<void>;
}

export async function startPodHarness(): Promise<PodHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-pods-'));
  const sandbox = await startSandboxNetwork({
    prefix: `hp${randomBytes(2).toString('hex')}`,
    nodes: 1,
    vxnets: [
      { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
      { id: POD_VXNET.id, cidr: POD_VXNET.cidr },
    ],
    fakeOptions: { jobDurations: { pendingMs: 5, workMs: 20 } },
  });
  const client = clientFor(sandbox.qingcloud);
  const store = AgentDatastore.open(join(dir, 'agent'));
  const node = sandbox.node('node-1');
  const nics = new NicManager({
    iaas: client,
    store,
    instanceId: node.instanceId,
    netns: node.netns,
    attachTimeoutMs: 5_000,
    linkTimeoutMs: 3_000,
    linkPollMs: 50,
    jobPoll: { initialIntervalMs: 10, maxIntervalMs: 50 },
  });
  const vx = (await client.describeVxnetsByIds([POD_VXNET.id])).get(POD_VXNET.id);
  if (!vx?.router) throw new Error('sandbox vxnet has no router');
  const ipamStore = new MemoryIpamStore();
  const ipam = new Ipam(ipamStore);
  const range = podRangeOfVxnet({
    vxnetId: POD_VXNET.id,
    ipNetwork: vx.router.ipNetwork,
    managerIp: vx.router.managerIp,
    dynIpStart: vx.router.dynIpStart || '172.16.3.2',
    dynIpEnd: vx.router.dynIpEnd || '172.16.3.254',
    tunnelType: 'vxlan',
  });
  await ipam.ensurePool(newIPPool(range, 27));
  await ipamStore.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [POD_VXNET.id] }) });
  const lockPath = join(dir, 'hostnic.lock');

  const h: PodHarness = {
    sandbox,
    store,
    ipamStore,
    ipam,
    nics,
    instanceId: node.instanceId,
    iaas: client,
    dir,
    lockPath,
    annotations: async () => ({}),
    service: undefined as unknown as PodService,
    serviceWith: (overrides) => new PodService({ ...options, ...overrides }),
    podNetns: (name) => sandbox.podNetns('node-1', name),
    attachment: (pod, containerId = `c${randomBytes(6).toString('hex')}`) => ({
      containerId,
      netns: pod.path,
      ifName: 'eth0',
      podNamespace: 'default',
      podName: pod.pod,
      infraContainerId: containerId,
      kubernetesPod: true,
    }),
    addRequest: (pod, containerId) => ({ attachment: h.attachment(pod, containerId), config: CONFIG, timeoutMs: 30_000 }),
    close: async () => {
      try {
        await store.close();
        await client.close();
      } finally {
        try {
          await sandbox.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    },
  };
  const options: PodServiceOptions = {
    ipam,
    nics,
    store,
    vxnets: cachedVxnetLookup(client),
    podAnnotations: (ns, name) => h.annotations(ns, name),
    nodeName: 'node-1',
    hostNetns: node.netns,
    ebtablesLockPath: lockPath,
  };
  h.service = new PodService(options);
  return h;
}

export async function nodeSnapshot(h: PodHarness): Promise<Snapshot> {
  return readSnapshot({ netns: h.sandbox.node('node-1').netns, parts: ['links', 'routes', 'rules'] });
}

/** arpreply entries (earlier releases' ARP answers) in the node's nat PREROUTING of either form, as `ip` values. */
export async function ebtablesArpReplyIps(h: PodHarness): Promise<string[]> {
  const listed = await listEbtablesChain('nat', 'PREROUTING', { netns: h.sandbox.node('node-1').netns, lockPath: h.lockPath });
  return listed.filter((r) => r.options.get('-j') === 'arpreply').map((r) => r.options.get('--arp-ip-dst') ?? '?');
}

/** The IPs the node answers ARP for, one element per answer of either kind (proxy entry, ebtables arpreply). */
export async function arpReplyIps(h: PodHarness): Promise<string[]> {
  const proxies = await listProxyNeighbours({ netns: h.sandbox.node('node-1').netns });
  return [...proxies.map((p) => p.ip), ...(await ebtablesArpReplyIps(h))];
}

/** Everything an ADD can leave behind, checked for one attachment. */
export async function expectNothingLeft(h: PodHarness, pod: PodNamespace, request: AddRequest): Promise<void> {
  const a = request.attachment;
  const handleId = podHandleId(a.podNamespace, a.podName, a.infraContainerId).id;
  expect(await h.ipam.addressesOf(handleId)).toEqual([]);
  expect(await h.ipamStore.listHandles()).toEqual([]);
  const state = await nodeSnapshot(h);
  expect(state.links.filter((l) => l.name.startsWith('vnic'))).toEqual([]);
  expect(state.routes.filter((r) => r.dst.startsWith('172.16.3.') && (r.dst.endsWith('/32') || !r.dst.includes('/')))).toEqual([]);
  expect(state.rules.filter((r) => r.priority === 1535)).toEqual([]);
  expect(await arpReplyIps(h)).toEqual([]);
  const inPod = await h.sandbox.exec(pod, ['ip', '-o', 'link', 'show', a.ifName]);
  expect(inPod.code).not.toBe(0);
  expect(await h.store.getPod(a.containerId, a.ifName)).toBeUndefined();
  expect(await h.store.listPods()).toEqual([]);
  expect(h.store.snapshot().intents).toEqual([]);
}

export type { ArpReplyEntry };
