import { describe, expect, it } from 'vitest';
import { renderMetrics, startMetricsServer } from '../../src/daemon/index.ts';
import { RequestMetrics } from '../../src/daemon/request-metrics.ts';
import { UNMAPPED_NAMESPACE } from '../../src/daemon/metrics.ts';
import type { MetricsSource } from '../../src/daemon/index.ts';
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
const source: MetricsSource = { nodeName: 'node-1', snapshot: () => ({ nics: [nic], pods: [pod] }), ready: () => true };

describe('metrics', () => {
  it('renders the compat families from the records, labels escaped', () => {
    const text = renderMetrics(source);
    expect(text).toContain(`hostnic_vxnet_count{node_name="node-1",vxnet_name="vxnet-pods001",phase="${nic.phase}",mac="52:54:aa:bb:cc:dd"} 1`);
    expect(text).toContain('pod_name="web-\\"1\\""');
    expect(text).toContain('hostnic_agent_ready{node_name="node-1"} 1');
  });

  it('renders the IPAM families of the original from the cached figures, with unmapped blocks under the dummy namespace', () => {
    const u = (allocated: number, unallocated: number) => ({ capacity: 32, allocated, unallocated, reserved: 32 - allocated - unallocated });
    const ipamUsage = {
      pools: [{ name: 'vxnet-pods001', blocks: 2, capacity: 256, allocated: 3, unallocated: 238, reserved: 15 }],
      blocks: [
        { name: '4100-172-16-3-0-27', pool: 'vxnet-pods001', coolingDown: 0, ...u(3, 27) },
        { name: '4100-172-16-3-32-27', pool: 'vxnet-pods001', coolingDown: 0, ...u(0, 32) },
      ],
      namespaces: [{ namespace: 'test', blocks: ['4100-172-16-3-0-27'], addresses: 3, ...u(3, 27) }],
    };
    const text = renderMetrics({ ...source, ipamUsage: () => ipamUsage });
    expect(text).toContain('hostnic_ipam_vxnet_allocator{vxnet_name="vxnet-pods001",node_name="node-1"} 3');
    expect(text).toContain('hostnic_ipam_vxnet_unallocator{vxnet_name="vxnet-pods001",node_name="node-1"} 238');
    expect(text).toContain('hostnic_ipam_vxnet_total{vxnet_name="vxnet-pods001",node_name="node-1"} 241');
    expect(text).toContain('hostnic_ipam_subnet_allocator{subnet_name="4100-172-16-3-0-27",node_name="node-1"} 3');
    expect(text).toContain('hostnic_ipam_namespace_total{ns_name="test",node_name="node-1"} 30');
    expect(text).toContain(`hostnic_ipam_namespace_unallocator{ns_name="${UNMAPPED_NAMESPACE}",node_name="node-1"} 32`);
    // Before the first refresh: the families are simply absent.
    expect(renderMetrics({ ...source, ipamUsage: () => undefined })).not.toContain('hostnic_ipam_');
  });

  it('counts CNI requests and histograms their durations (cumulative buckets)', () => {
    const requests = new RequestMetrics();
    requests.observe('add', 'ok', 0.08);
    requests.observe('add', 'ok', 0.7);
    requests.observe('add', 'error', 0.01);
    requests.observe('del', 'ok', 0.1);
    const text = renderMetrics({ ...source, requests });
    expect(text).toContain('hostnic_cni_requests_total{node_name="node-1",verb="add",outcome="ok"} 2');
    expect(text).toContain('hostnic_cni_requests_total{node_name="node-1",verb="add",outcome="error"} 1');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{node_name="node-1",verb="add",le="0.1"} 2');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{node_name="node-1",verb="add",le="1"} 3');
    expect(text).toContain('hostnic_cni_request_duration_seconds_bucket{node_name="node-1",verb="add",le="+Inf"} 3');
    expect(text).toContain('hostnic_cni_request_duration_seconds_count{node_name="node-1",verb="del"} 1');
    // The original's six failure gauges are always there, 0 until something fails.
    expect(text).toContain('hostnic_ipam_alloc_from_host_failed{node_name="node-1"} 0');
    requests.failed('alloc_from_host_failed');
    requests.failed('free_from_pool_failed');
    const after = renderMetrics({ ...source, requests });
    expect(after).toContain('hostnic_ipam_alloc_from_host_failed{node_name="node-1"} 1');
    expect(after).toContain('hostnic_ipam_free_from_pool_failed{node_name="node-1"} 1');
    expect(after).toContain('hostnic_ipam_alloc_from_block_failed{node_name="node-1"} 0');
    expect(after).toContain('hostnic_ipam_failures_total{node_name="node-1",kind="free_from_pool_failed"} 1');
  });

  it('answers /metrics only', async () => {
    const server = await startMetricsServer(0, source, '127.0.0.1');
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('hostnic_vxnet_pod_count');
      expect((await fetch(`http://127.0.0.1:${server.port}/debug/pprof`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
