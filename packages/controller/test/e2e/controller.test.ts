/**
 * The whole controller, in-process, against the fake kube-apiserver and the fake QingCloud over real HTTP:
 * informers, leader election, queues, reconcilers, cleanup, metrics.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam, parseIpamConfig } from '@hostnic/ipam';
import { putIpamConfig, putNamespace, putNode, putPod, putVxNetPool, seedVxnets, startHarness, until, VXNET } from '../harness.ts';
import type { Harness } from '../harness.ts';
import { startController } from '../../src/daemon/controller.ts';
import type { ControllerOptions, RunningController } from '../../src/daemon/controller.ts';

let h: Harness;
const running: RunningController[] = [];

beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
  putNamespace(h.kube, 'default');
  putNamespace(h.kube, 'kube-system');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await h.close();
});

async function start(identity: string, extra: Partial<ControllerOptions> = {}): Promise<RunningController> {
  const c = await startController({
    kube: h.client,
    iaas: h.iaas,
    identity,
    lease: { durationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 150 },
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    resyncMs: 2_000,
    ipamGcIntervalMs: 60_000,
    nicGcIntervalMs: 0,
    cooldownMs: 0,
    pendingResyncMs: 50,
    informerBackoff: { baseMs: 50, maxMs: 500 },
    ...extra,
  });
  running.push(c);
  return c;
}

interface VpoolStatus {
  ready?: boolean;
  pools?: { name: string; subnets?: string[] }[];
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

function vpoolStatus(): VpoolStatus | undefined {
  return h.kube.get('vxnetpools', 'v-pool')?.['status'] as VpoolStatus | undefined;
}

function conditionOf(type: string): { status: string; reason: string; message: string } | undefined {
  return vpoolStatus()?.conditions?.find((c) => c.type === type);
}

describe('hostnic-controller against the seed README', () => {
  it('VxNetPool (blockSize 27) and the manual ipam-config: pools, 8 blocks, ready, and the mapping checked', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    // Verbatim from the seed README: its block names are those of blockSize 26.
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET], test: ['4100-172-16-3-0-26', '4100-172-16-3-128-26'] }) });
    const c = await start('replica-a');
    await until('v-pool ready', () => vpoolStatus()?.ready);
    expect(vpoolStatus()?.pools).toEqual([{ name: VXNET, ippool: VXNET, subnets: [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `4100-172-16-3-${o}-27`) }]);
    const pool = h.kube.get('ippools', VXNET);
    expect(pool?.['spec']).toMatchObject({ type: 'local', cidr: '172.16.3.0/24', rangeStart: '172.16.3.2', rangeEnd: '172.16.3.242', gateway: '172.16.3.1', blockSize: 27 });
    // Computed from the block cache, which fills as the blocks are created: it settles on the spec's figures.
    await until('IPPool status', () => (h.kube.get('ippools', VXNET)?.['status'] as { reserved?: number } | undefined)?.reserved === 15);
    expect(h.kube.get('ippools', VXNET)?.['status']).toMatchObject({ capacity: 256, allocations: 0, unallocated: 241, reserved: 15 });
    // The README's -26 names do not exist at blockSize 27: said clearly, on v-pool and in an Event.
    const mapping = await until('MappingValid', () => conditionOf('MappingValid'));
    expect(mapping).toMatchObject({ status: 'False', reason: 'InvalidMapping' });
    expect(mapping.message).toContain('block 4100-172-16-3-0-26 does not exist');
    await until('InvalidIpamConfig event', () => h.kube.list('events', { namespace: 'kube-system' }).some((e) => e['reason'] === 'InvalidIpamConfig'));
    expect(h.fake.vips().filter((v) => v.vxnet_id === VXNET)).toHaveLength(241);
    expect(c.isLeader()).toBe(true);

    // Fixed by the admin: valid again.
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET], test: ['4100-172-16-3-0-27', '4100-172-16-3-128-27'] }) });
    await until('MappingValid True', () => conditionOf('MappingValid')?.status === 'True');

    // The metrics render the controller's own view, which may trail the API's: wait for it to get there.
    const metrics = await until('the metrics to show the settled pool', async () => {
      const text = await (await fetch(`http://127.0.0.1:${c.port ?? 0}/metrics`)).text();
      return /hostnic_ippool_addresses\{pool="vxnet-abc1234",state="free"\} 241/.test(text) && text.includes('hostnic_vxnetpool_ready 1') ? text : undefined;
    });
    expect(metrics).toContain('hostnic_controller_leader{identity="replica-a"} 1');
    const status = (await (await fetch(`http://127.0.0.1:${c.port ?? 0}/status`)).json()) as { leader: boolean };
    expect(status.leader).toBe(true);
    expect((await fetch(`http://127.0.0.1:${c.port ?? 0}/readyz`)).status).toBe(200);
    expect(metrics).toMatch(/hostnic_build_info\{component="controller",version="[^"]+",node_version="v\d+/);
    expect(metrics).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(metrics).toMatch(/hostnic_controller_reconcile_duration_seconds_count\{controller="vxnetpool",result="ok"\} [1-9]/);
    expect(c.unhealthy()).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${c.port ?? 0}/healthz`)).status).toBe(200);
  });

  it('auto mode maps every namespace to its own block, including new ones, and says when none is left', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: '{}' });
    await start('replica-a');
    const mapped = async (): Promise<Map<string, readonly string[]>> => new Map(parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces);
    // default, kube-system, kube-public and kube-node-lease (the apiserver's own namespaces count too, as in Go).
    await until('the four system namespaces mapped', async () => ((await mapped()).size === 4 ? true : undefined));
    putNamespace(h.kube, 'team-a');
    await until('team-a mapped', async () => (await mapped()).has('team-a'));
    const m = await mapped();
    const all = [...m.values()].flat();
    expect(new Set(all).size).toBe(5);
    expect(all.every((b) => /^4100-172-16-3-(0|32|64|96|128|160|192|224)-27$/.test(b))).toBe(true);
    for (const ns of ['team-b', 'team-c', 'team-d', 'team-e']) putNamespace(h.kube, ns);
    await until('SubnetsAvailable False', () => conditionOf('SubnetsAvailable')?.status === 'False');
    expect(conditionOf('SubnetsAvailable')?.message).toMatch(/team-/);
    await until('NoFreeSubnet event', () => h.kube.list('events').some((e) => e['reason'] === 'NoFreeSubnet'));
    expect((await mapped()).size).toBe(8);
  });
});

describe('QKE clusters', () => {
  it('find the security group from clusterID once, not on every sync, and let the vxnet in', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-qke9' });
    h.fake.addCluster({ cluster_id: 'cl-qke9', security_group_id: sg.security_group_id });
    h.kube.put('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'clusterconfig', namespace: 'kube-system' }, data: { 'qingcloud.yaml': 'zone: pek3a\nclusterID: cl-qke9\n' } });
    putVxNetPool(h.kube, [VXNET], 27);
    const c = await start('replica-a');
    await until('v-pool ready', () => vpoolStatus()?.ready);
    // The controller's in-memory status trails the API's: wait for its own view of the sync, not the API's.
    await until('the controller to have synced v-pool ready', () => (c.status().lastVxNetPool as { ready?: boolean } | undefined)?.ready);
    expect(h.fake.securityGroupRules().filter((r) => r.security_group_id === 'sg-qke9' && r.val3 === '172.16.3.0/24')).toHaveLength(1);
    // Getting there took several syncs (VIP and rule jobs pending); the cluster was described once.
    expect(h.fake.requests({ action: 'DescribeClusters' })).toHaveLength(1);
  });
});

describe('restarts', () => {
  it('a restarted controller changes nothing and never writes ready: false', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET] }) });
    const first = await start('replica-a');
    await until('v-pool ready', () => vpoolStatus()?.ready);
    await until('IPPool status settled', () => (h.kube.get('ippools', VXNET)?.['status'] as { reserved?: number } | undefined)?.reserved === 15);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    h.kube.clearRequestLog();
    const allocations = h.fake.requests({ action: 'AllocateVips' }).length;

    const second = await start('replica-b');
    await until('leading', () => second.isLeader());
    await until('v-pool synced by the new leader', () => second.status().lastVxNetPool !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    const writes = h.kube.requestLog().filter((e) => ['create', 'update', 'patch', 'delete'].includes(e.verb ?? '') && !['leases', 'events'].includes(e.resource ?? ''));
    expect(writes.map((w) => `${w.verb} ${w.resource ?? ''}/${w.name ?? ''}`)).toEqual([]);
    expect(h.fake.requests({ action: 'AllocateVips' })).toHaveLength(allocations);
    expect(vpoolStatus()?.ready).toBe(true);
  });
});

describe('two replicas', () => {
  it('only the leader writes; the stand-by takes over when the leader stops', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: '{}' });
    const writes: { who: string; at: number; op: string }[] = [];
    const a = await start('replica-a', { observeWrites: (op) => writes.push({ who: 'a', at: Date.now(), op }) });
    await until('a leads', () => a.isLeader());
    const b = await start('replica-b', { observeWrites: (op) => writes.push({ who: 'b', at: Date.now(), op }) });
    await until('v-pool ready', () => vpoolStatus()?.ready);
    await until('namespaces mapped', async () => (parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces.size === 4 ? true : undefined));
    await until('b synced', () => b.ready());
    // Work for the leader while b stands by.
    putNamespace(h.kube, 'team-a');
    await until('team-a mapped', async () => parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces.has('team-a'));
    expect(b.isLeader()).toBe(false);
    expect(writes.filter((w) => w.who === 'b')).toEqual([]);
    expect(writes.filter((w) => w.who === 'a').length).toBeGreaterThan(5);

    const handover = Date.now();
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await until('b leads', () => b.isLeader(), 10_000);
    putNamespace(h.kube, 'team-b');
    await until('team-b mapped by b', async () => parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces.has('team-b'));
    expect(writes.filter((w) => w.who === 'a' && w.at > handover)).toEqual([]);
    expect(writes.some((w) => w.who === 'b')).toBe(true);
    const lastA = Math.max(...writes.filter((w) => w.who === 'a').map((w) => w.at));
    const firstB = Math.min(...writes.filter((w) => w.who === 'b').map((w) => w.at));
    expect(firstB).toBeGreaterThan(lastA);
  });

  it('a leader that cannot renew stops writing, and the IaaS and API state stay whole', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const writes: { who: string; at: number }[] = [];
    const a = await start('replica-a', { observeWrites: () => writes.push({ who: 'a', at: Date.now() }) });
    await until('v-pool ready', () => vpoolStatus()?.ready);
    const b = await start('replica-b', { observeWrites: () => writes.push({ who: 'b', at: Date.now() }) });
    await until('b synced', () => b.ready());
    // The apiserver refuses every Lease update for a while: a must stop writing within its renew deadline.
    const heal = h.kube.faults.fail({ verb: 'update', resource: 'leases' }, 500);
    await until('a stepped down', () => !a.isLeader(), 5_000);
    const stepped = Date.now();
    heal();
    await until('someone leads again', () => a.isLeader() || b.isLeader(), 10_000);
    const leader = a.isLeader() ? 'a' : 'b';
    const other = leader === 'a' ? 'b' : 'a';
    const otherLast = Math.max(0, ...writes.filter((w) => w.who === other).map((w) => w.at));
    expect(otherLast).toBeLessThanOrEqual(stepped);
    expect(h.fake.vips().filter((v) => v.vxnet_id === VXNET)).toHaveLength(241);
    expect(await h.store.listBlocks()).toHaveLength(8);
  });
});

describe('cleanup, end to end', () => {
  it('releases the address of a pod that is gone, keeps those of live pods', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET] }) });
    const c = await start('replica-a', { ipamLeakGraceMs: 0 });
    await until('v-pool ready', () => vpoolStatus()?.ready);
    const ipam = new Ipam(h.store, { cooldownMs: 0 });
    const live = await ipam.allocate({ handleId: 'default-live-c1', namespace: 'default', pod: 'live', node: 'node-1' });
    await ipam.allocate({ handleId: 'default-gone-c1', namespace: 'default', pod: 'gone', node: 'node-1' });
    putPod(h.kube, 'default', 'live', live.address);
    await until('pods cached', () => c.ready());
    await new Promise((r) => setTimeout(r, 100));
    await c.runCleanup();
    const second = (await c.runCleanup()) as { ipam?: { repaired?: { released: { handleId: string }[] } } };
    expect(second.ipam?.repaired?.released.map((x) => x.handleId)).toEqual(['default-gone-c1']);
    expect(await ipam.addressesOf('default-gone-c1')).toEqual([]);
    expect((await ipam.addressesOf('default-live-c1')).map((x) => x.address)).toEqual([live.address]);
  });

  it('removes the NIC left on an instance whose node was deleted, and never touches the live node\'s NIC', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const live = h.fake.addInstance({ instance_id: 'i-live0001', vxnet_id: VXNET });
    const gone = h.fake.addInstance({ instance_id: 'i-gone0001', vxnet_id: VXNET });
    putNode(h.kube, 'node-live', live.instance_id);
    putNode(h.kube, 'node-gone', gone.instance_id);
    const liveNic = h.fake.addNic({ vxnet_id: VXNET, nic_name: `hostnic_${live.instance_id}`, instance_id: live.instance_id, status: 'in-use' });
    const leftNic = h.fake.addNic({ vxnet_id: VXNET, nic_name: `hostnic_${gone.instance_id}`, instance_id: gone.instance_id, status: 'in-use' });
    const foreign = h.fake.addNic({ vxnet_id: VXNET, nic_name: 'hostnic_i-other001', instance_id: '', status: 'available' });
    const c = await start('replica-a', { nicGcIntervalMs: 3_600_000, nicLeakGraceMs: 0, jobTimeoutMs: 5_000 });
    await until('caches', () => c.ready());
    await until('leading', () => c.isLeader());
    await until('v-pool ready', () => vpoolStatus()?.ready);
    await c.runCleanup();
    // The node goes; the instance keeps the NIC attached.
    h.kube.delete('nodes', 'node-gone');
    await until('node gone from the cache', async () => ((await c.runCleanup()).nics?.pending ?? 0) > 0 || undefined);
    await until('leaked NIC deleted', async () => {
      await c.runCleanup();
      return h.fake.nics().every((n) => n.nic_id !== leftNic.nic_id) || undefined;
    });
    const ids = h.fake.nics().map((n) => n.nic_id);
    expect(ids).toContain(liveNic.nic_id);
    expect(ids).toContain(foreign.nic_id);
    // Remembered across restarts: the departed node is in the state ConfigMap.
    const state = h.kube.get('configmaps', 'hostnic-controller-state', 'kube-system') as { data?: Record<string, string> } | undefined;
    expect(state?.data?.['nodes.json']).toContain(gone.instance_id);
  });
});


describe('the host machine node label (--hostmachine-label)', () => {
  const cluster = { clusterId: 'cl-hm0001', tagIds: [] };
  const labelOf = (node: string): unknown => (h.kube.get('nodes', node)?.['metadata'] as { labels?: Record<string, string> } | undefined)?.labels?.['topology.kubernetes.io/hostmachine'];

  beforeEach(() => {
    h.fake.addCluster({ cluster_id: cluster.clusterId, nodes: [{ instance_id: 'i-hm0001', host_machine: 'pek3a-hm-7', private_ip: '10.0.0.5' }] });
    putNode(h.kube, 'node-1', 'i-hm0001');
    putVxNetPool(h.kube, [VXNET], 27);
  });

  it('the leader labels each node with its instance\'s host when turned on', async () => {
    await start('replica-a', { clusterConfig: cluster, hostMachineLabelIntervalMs: 60_000 });
    await until('node-1 labelled', () => labelOf('node-1') === 'pek3a-hm-7' || undefined);
  });

  it('off by default: no DescribeClusterNodes, no label', async () => {
    await start('replica-a', { clusterConfig: cluster });
    await until('v-pool ready', () => vpoolStatus()?.ready);
    expect(h.fake.requests({ action: 'DescribeClusterNodes' })).toEqual([]);
    expect(labelOf('node-1')).toBeUndefined();
  });
});
