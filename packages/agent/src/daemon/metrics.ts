/**
 * The agent's Prometheus families on the runtime's registry (process metrics and build info come with it),
 * computed from the datastore snapshot and the cached IPAM figures at scrape time: a scrape never calls the
 * API server or the IaaS, and carries no secrets. The original's family names are kept; per-pod labels are
 * not (a scrape must not list every pod's namespace, name and IP).
 */

import type { ClaimCounts, IpamUtilisation } from '@hostnic/ipam';
import type { Metrics } from '@hostnic/runtime';
import type { DatastoreSnapshot } from '../datastore/index.ts';

export interface MetricsSource {
  snapshot(): Pick<DatastoreSnapshot, 'nics' | 'pods'>;
  ready(): boolean;
  /** The IPAM figures as last refreshed (never fetched during a scrape); undefined before the first. */
  ipamUsage?(): IpamUtilisation | undefined;
  /** The node claim's counts (in memory, no I/O); undefined when the claim is off. */
  claimCounts?(): ClaimCounts | undefined;
}

/** The namespace the original reports blocks under that no namespace maps [compat]. */
export const UNMAPPED_NAMESPACE = 'Dummy-ns-for-unmapped-subnets';

interface UsageRow {
  readonly name: string;
  readonly allocated: number;
  readonly free: number;
}

/** Rows of the three IPAM families of the original: per vxnet, per block, per namespace of the mapping. */
export function ipamRows(usage: IpamUtilisation): Record<'vxnet' | 'subnet' | 'namespace', UsageRow[]> {
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
  return {
    vxnet: usage.pools.map((p) => ({ name: p.name, allocated: p.allocated, free: p.unallocated })),
    subnet: usage.blocks.map((b) => ({ name: b.name, allocated: b.allocated, free: b.unallocated })),
    namespace: namespaces,
  };
}

const IPAM_FAMILIES = [
  { family: 'vxnet', what: 'vxnet (IPPool)', label: 'vxnet_name' },
  { family: 'subnet', what: 'block (IPAMBlock)', label: 'subnet_name' },
  { family: 'namespace', what: 'namespace of the mapping', label: 'ns_name' },
] as const;

export function registerAgentMetrics(metrics: Metrics, source: MetricsSource): void {
  metrics.gauge('hostnic_vxnet_count', 'NICs recorded on this node (1 per record).', ['vxnet_name', 'phase', 'mac'], function collect() {
    this.reset();
    for (const nic of source.snapshot().nics) this.set({ vxnet_name: nic.vxnet.vxnetId, phase: nic.phase, mac: nic.nicId }, 1);
  });
  metrics.gauge('hostnic_vxnet_pod_count', 'Pod attachments recorded on this node, per vxnet.', ['vxnet_name'], function collect() {
    this.reset();
    const counts = new Map<string, number>();
    for (const pod of source.snapshot().pods) counts.set(pod.vxnetId, (counts.get(pod.vxnetId) ?? 0) + 1);
    for (const [vxnet, n] of counts) this.set({ vxnet_name: vxnet }, n);
  });
  metrics.gauge('hostnic_ipam_claim_addresses', "Addresses of this node's IPAM claim, by state (assigned, ready, cooling) and not yet published.", ['state'], function collect() {
    this.reset();
    const c = source.claimCounts?.();
    if (c === undefined) return;
    for (const state of ['assigned', 'ready', 'cooling', 'unpublished'] as const) this.set({ state }, c[state]);
  });
  metrics.gauge('hostnic_agent_ready', 'Whether the agent answers CNI requests (1) or is still starting (0).', [], function collect() {
    this.set(source.ready() ? 1 : 0);
  });
  for (const { family, what, label } of IPAM_FAMILIES) {
    const rows = (): UsageRow[] => {
      const usage = source.ipamUsage?.();
      return usage === undefined ? [] : ipamRows(usage)[family];
    };
    for (const [suffix, help, value] of [
      ['allocator', `Allocated addresses per ${what}.`, (r: UsageRow) => r.allocated],
      ['unallocator', `Free addresses per ${what}.`, (r: UsageRow) => r.free],
      ['total', `Allocated plus free addresses per ${what}.`, (r: UsageRow) => r.allocated + r.free],
    ] as const) {
      metrics.gauge(`hostnic_ipam_${family}_${suffix}`, help, [label], function collect() {
        this.reset();
        for (const r of rows()) this.set({ [label]: r.name }, value(r));
      });
    }
  }
}
