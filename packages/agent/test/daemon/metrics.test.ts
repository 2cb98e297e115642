import { describe, expect, it } from 'vitest';
import { Metrics } from '@hostnic/runtime';
import { UNMAPPED_NAMESPACE, registerAgentMetrics, requestMetrics, startMetricsServer } from '../../src/daemon/index.ts';
import type { MetricsSource } from '../../src/daemon/index.ts';
import { defaultMetricsHost } from '../../src/daemon/metrics-host.ts';
import type { NicRecord, PodRecord } from '../../src/types.ts';

const nic: NicRecord = {
  nicId: '52:54:aa:bb:cc:dd',
  vxnet: { vxnetId: 'vxnet-pods001', gateway: '172.16.3.1', network: '172.16.3.0/24', tunnelType: 'vxlan' },
  routeTable: 260,
  linkName: 'hostnic_pods001',
  bridge: 'br_260',
  phase: 'Succeeded',
  createdAt: '2026-01-01T00:00:00Z',
};
const pod: PodRecord = {
  containerId: 'c1',
  ifName: 'eth0',
  podNamespace: 'test',
  podName: 'web-"1"',
  infraContainerId: 'c1',
  netns: '/var/run/netns/x',
  handleId: 'test-web-1-c1',
  ip: '172.16.3.5',
  vxnetId: 'vxnet-pods001',
  nicId: nic.nicId,
  hostVeth: 'vnic0',
  hostVethMac: '02:00:00:00:00:01',
  podMac: '02:00:00:00:00:02',
  createdAt: '2026-01-01T00:00:00Z',
};
const source: MetricsSource = { snapshot: () => ({ nics: [nic], pods: [pod, { ...pod, containerId: 'c2', ip: '172.16.3.6' }] }), ready: () => true };

function registry(s: MetricsSource = source): Metrics {
  const m = new Metrics({ component: 'agent', version: '0.0.0-test', labels: { node_name: 'node-1' }, processMetrics: false });
  registerAgentMetrics(m, s);
  return m;
}

describe('metrics', () => {
  it("renders the node claim's addresses by state, and nothing when the claim is off", async () => {
    const on = await registry({ ...source, claimCounts: () => ({ assigned: 3, ready: 5, cooling: 1, unpublished: 2 }) }).render();
    expect(on).toContain('hostnic_ipam_claim_addresses{state="assigned",node_name="node-1"} 3');
    expect(on).toContain('hostnic_ipam_claim_addresses{state="ready",node_name="node-1"} 5');
    expect(on).toContain('hostnic_ipam_claim_addresses{state="unpublished",node_name="node-1"} 2');
    expect(await registry().render()).not.toContain('hostnic_ipam_claim_addresses{');
  });

  it('renders the compat families from the records, pods counted per vxnet without pod names or IPs', async () => {
    const text = await registry().render();
    expect(text).toContain(`hostnic_vxnet_count{vxnet_name="vxnet-pods001",phase="${nic.phase}",mac="52:54:aa:bb:cc:dd",node_name="node-1"} 1`);
    expect(text).toContain('hostnic_vxnet_pod_count{vxnet_name="vxnet-pods001",node_name="node-1"} 2');
    expect(text).not.toContain('web-');
    expect(text).not.toContain('172.16.3.5');
    expect(text).toContain('hostnic_agent_ready{node_name="node-1"} 1');
  });

  it('renders the IPAM families of the original from the cached figures, with unmapped blocks under the dummy namespace', async () => {
    const u = (allocated: number, unallocated: number) => ({ capacity: 32, allocated, unallocated, reserved: 32 - allocated - unallocated });
    const ipamUsage = {
      pools: [{ name: 'vxnet-pods001', blocks: 2, capacity: 256, allocated: 3, unallocated: 238, reserved: 15 }],
      blocks: [
        { name: '4100-172-16-3-0-27', pool: 'vxnet-pods001', coolingDown: 0, ...u(3, 27) },
        { name: '4100-172-16-3-32-27', pool: 'vxnet-pods001', coolingDown: 0, ...u(0, 32) },
      ],
      namespaces: [{ namespace: 'test', blocks: ['4100-172-16-3-0-27'], addresses: 3, ...u(3, 27) }],
    };
    const text = await registry({ ...source, ipamUsage: () => ipamUsage }).render();
    expect(text).toContain('hostnic_ipam_vxnet_allocator{vxnet_name="vxnet-pods001",node_name="node-1"} 3');
    expect(text).toContain('hostnic_ipam_vxnet_unallocator{vxnet_name="vxnet-pods001",node_name="node-1"} 238');
    expect(text).toContain('hostnic_ipam_vxnet_total{vxnet_name="vxnet-pods001",node_name="node-1"} 241');
    expect(text).toContain('hostnic_ipam_subnet_allocator{subnet_name="4100-172-16-3-0-27",node_name="node-1"} 3');
    expect(text).toContain('hostnic_ipam_namespace_total{ns_name="test",node_name="node-1"} 30');
    expect(text).toContain(`hostnic_ipam_namespace_unallocator{ns_name="${UNMAPPED_NAMESPACE}",node_name="node-1"} 32`);
    // Before the first refresh: the families have no samples.
    expect(await registry({ ...source, ipamUsage: () => undefined }).render()).not.toMatch(/^hostnic_ipam_vxnet_total\{/m);
  });

  it('counts CNI requests and histograms their durations (cumulative buckets); failures as gauges and a counter', async () => {
    const m = registry();
    const requests = requestMetrics(m);
    requests.observe('add', 'ok', 0.08);
    requests.observe('add', 'ok', 0.7);
    requests.observe('add', 'error', 0.01);
    requests.observe('del', 'ok', 0.1);
    const text = await m.render();
    expect(text).toContain('hostnic_cni_requests_total{verb="add",outcome="ok",node_name="node-1"} 2');
    expect(text).toContain('hostnic_cni_requests_total{verb="add",outcome="error",node_name="node-1"} 1');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{le="0.1",node_name="node-1",verb="add"} 2');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{le="1",node_name="node-1",verb="add"} 3');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{le="+Inf",node_name="node-1",verb="add"} 3');
    expect(text).toContain('hostnic_cni_request_duration_seconds_count{node_name="node-1",verb="del"} 1');
    // The original's six failure gauges are always there, 0 until something fails.
    expect(text).toContain('# TYPE hostnic_ipam_alloc_from_host_failed gauge');
    expect(text).toContain('hostnic_ipam_alloc_from_host_failed{node_name="node-1"} 0');
    requests.failed('alloc_from_host_failed');
    requests.failed('free_from_pool_failed');
    const after = await m.render();
    expect(after).toContain('hostnic_ipam_alloc_from_host_failed{node_name="node-1"} 1');
    expect(after).toContain('hostnic_ipam_free_from_pool_failed{node_name="node-1"} 1');
    expect(after).toContain('hostnic_ipam_alloc_from_block_failed{node_name="node-1"} 0');
    expect(after).toContain('# TYPE hostnic_ipam_failures_total counter');
    expect(after).toContain('hostnic_ipam_failures_total{kind="free_from_pool_failed",node_name="node-1"} 1');
  });

  it('serves /metrics, /healthz (datastore open) and /readyz (the daemon\'s readiness), nothing else', async () => {
    let datastoreProblem: string | undefined;
    let readiness: { ready: boolean; reason?: string } = { ready: false, reason: 'start-up reconcile running' };
    const server = await startMetricsServer(0, '127.0.0.1', { metrics: registry(), datastoreProblem: () => datastoreProblem, readiness: () => readiness });
    const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`;
    try {
      const ok = await fetch(url('/metrics'));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('hostnic_build_info{component="agent",version="0.0.0-test"');
      expect((await fetch(url('/healthz'))).status).toBe(200);
      const notReady = await fetch(url('/readyz'));
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toBe('start-up reconcile running\n');
      readiness = { ready: true };
      expect((await fetch(url('/readyz'))).status).toBe(200);
      datastoreProblem = 'the datastore is closed';
      const sick = await fetch(url('/healthz'));
      expect(sick.status).toBe(503);
      expect(await sick.text()).toBe('the datastore is closed\n');
      expect((await fetch(url('/debug/pprof'))).status).toBe(404);
      expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe('defaultMetricsHost', () => {
  const iface = (address: string, internal = false) => ({ address, internal, family: 'IPv4' as const, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
  it('NODE_IP wins; else the first address of a link that is neither loopback nor the agent\'s own', () => {
    const interfaces = { lo: [iface('127.0.0.1', true)], br_260: [iface('172.16.3.1')], eth0: [iface('192.168.0.5')], hostnic_abc: [iface('172.16.3.9')] };
    expect(defaultMetricsHost({ NODE_IP: '10.0.0.7' }, interfaces)).toBe('10.0.0.7');
    expect(defaultMetricsHost({}, interfaces)).toBe('192.168.0.5');
    expect(defaultMetricsHost({}, { lo: [iface('127.0.0.1', true)] })).toBeUndefined();
  });
});
