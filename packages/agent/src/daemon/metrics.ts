/**
 * The Prometheus endpoint (spec agent.md 5.1-5.2): GET /metrics only, computed from the datastore snapshot at
 * scrape time; never calls the API server or the IaaS, and carries no secrets.
 */

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { IpamUtilisation } from '@hostnic/ipam';
import type { DatastoreSnapshot } from '../datastore/index.ts';
import type { RequestMetrics } from './request-metrics.ts';

export interface MetricsSource {
  nodeName: string;
  snapshot(): Pick<DatastoreSnapshot, 'nics' | 'pods'>;
  ready(): boolean;
  /** The IPAM figures as last refreshed (never fetched during a scrape); undefined before the first. */
  ipamUsage?(): IpamUtilisation | undefined;
  requests?: RequestMetrics;
}

/** The namespace the original reports blocks under that no namespace maps [compat]. */
export const UNMAPPED_NAMESPACE = 'Dummy-ns-for-unmapped-subnets';

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** The three gauges of one IPAM family [compat names]: allocated, free, and their sum. */
function ipamFamily(family: string, what: string, label: string, rows: readonly { name: string; allocated: number; free: number }[], node: string): string {
  let out = '';
  for (const [suffix, help, value] of [
    ['allocator', `Allocated addresses per ${what}.`, (r: { allocated: number }) => r.allocated],
    ['unallocator', `Free addresses per ${what}.`, (r: { free: number }) => r.free],
    ['total', `Allocated plus free addresses per ${what}.`, (r: { allocated: number; free: number }) => r.allocated + r.free],
  ] as const) {
    out += `# HELP hostnic_ipam_${family}_${suffix} ${help}\n# TYPE hostnic_ipam_${family}_${suffix} gauge\n`;
    for (const r of rows) out += `hostnic_ipam_${family}_${suffix}${labels({ [label]: r.name, node_name: node })} ${value(r)}\n`;
  }
  return out;
}

/** The IPAM families of the original (per vxnet, block and namespace), from the cached utilisation. */
export function renderIpamMetrics(usage: IpamUtilisation, node: string): string {
  const vxnets = usage.pools.map((p) => ({ name: p.name, allocated: p.allocated, free: p.unallocated }));
  const subnets = usage.blocks.map((b) => ({ name: b.name, allocated: b.allocated, free: b.unallocated }));
  const mapped = new Set(usage.namespaces.flatMap((n) => n.blocks));
  const namespaces = usage.namespaces.filter((n) => n.blocks.length > 0).map((n) => ({ name: n.namespace, allocated: n.allocated, free: n.unallocated }));
  const unmapped = usage.blocks.filter((b) => !mapped.has(b.name));
  if (unmapped.length > 0) {
    namespaces.push({
      name: UNMAPPED_NAMESPACE,
      allocated: unmapped.reduce((n, b) => n + b.allocated, 0),
      free: unmapped.reduce((n, b) => n + b.unallocated, 0),
    });
  }
  return ipamFamily('vxnet', 'vxnet (IPPool)', 'vxnet_name', vxnets, node) +
    ipamFamily('subnet', 'block (IPAMBlock)', 'subnet_name', subnets, node) +
    ipamFamily('namespace', 'namespace of the mapping', 'ns_name', namespaces, node);
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
  const usage = source.ipamUsage?.();
  if (usage !== undefined) out += renderIpamMetrics(usage, node);
  if (source.requests !== undefined) out += source.requests.render(node, labels);
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
