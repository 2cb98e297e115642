import { describe, expect, it } from 'vitest';
import { renderMetrics, startMetricsServer } from '../../src/daemon/index.ts';
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
