/**
 * The Prometheus endpoint (spec agent.md 5.1-5.2): GET /metrics only, computed from the datastore snapshot at
 * scrape time; never calls the API server or the IaaS, and carries no secrets.
 */

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { DatastoreSnapshot } from '../datastore/index.ts';

export interface MetricsSource {
  nodeName: string;
  snapshot(): Pick<DatastoreSnapshot, 'nics' | 'pods'>;
  ready(): boolean;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return `${name}{${body}} ${value}\n`;
}

export function renderMetrics(source: MetricsSource): string {
  const node = source.nodeName;
  const snap = source.snapshot();
  let out = '';
  out += '# HELP hostnic_vxnet_count NICs recorded on this node (1 per record).\n# TYPE hostnic_vxnet_count gauge\n';
  for (const nic of snap.nics) {
    out += sample('hostnic_vxnet_count', { node_name: node, vxnet_name: nic.vxnet.vxnetId, phase: nic.phase, mac: nic.nicId }, 1);
  }
  out += '# HELP hostnic_vxnet_pod_count Pod attachments recorded on this node (1 per attachment).\n# TYPE hostnic_vxnet_pod_count gauge\n';
  for (const pod of snap.pods) {
    out += sample(
      'hostnic_vxnet_pod_count',
      {
        node_name: node,
        vxnet_name: pod.vxnetId,
        pod_namespace: pod.podNamespace,
        pod_name: pod.podName,
        pod_containerid: pod.containerId,
        ip: pod.ip,
      },
      1,
    );
  }
  out += '# HELP hostnic_agent_ready Whether the agent answers CNI requests (1) or is still starting (0).\n# TYPE hostnic_agent_ready gauge\n';
  out += sample('hostnic_agent_ready', { node_name: node }, source.ready() ? 1 : 0);
  return out;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(port: number, source: MetricsSource, host?: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    let text: string;
    try {
      text = renderMetrics(source);
    } catch (e) {
      // A closed datastore during shutdown: answer what can be answered rather than failing the scrape.
      text = `# metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
