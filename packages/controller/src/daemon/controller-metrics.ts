/**
 * The controller's own families, computed from their owners at scrape time; nothing here talks to the API or
 * the IaaS. Process metrics, build info and the IaaS request families come with the registry.
 */
import { LABEL_POOL_NAME, VXNET_POOL_NAME, freeCount } from '@hostnic/ipam';
import type { IPAMBlock } from '@hostnic/ipam';
import type { Metrics } from '@hostnic/runtime';
import type { ControllerInformers } from './informers.ts';
import type { LeaderLoops } from './leader-loops.ts';

export interface ControllerMetricSources {
  readonly identity: string;
  readonly isLeader: () => boolean;
  readonly informers: ControllerInformers;
  readonly loops: LeaderLoops;
  readonly cachedBlocks: () => IPAMBlock[];
}

export function registerControllerMetrics(metrics: Metrics, s: ControllerMetricSources): void {
  const caches = Object.entries(s.informers);
  metrics.gauge('hostnic_controller_leader', 'Whether this replica holds the lease (1) or stands by (0).', ['identity'], function collect() {
    this.set({ identity: s.identity }, s.isLeader() ? 1 : 0);
  });
  metrics.gauge('hostnic_controller_cache_synced', 'Whether each informer cache is synced.', ['cache'], function collect() {
    for (const [cache, i] of caches) this.set({ cache }, i.hasSynced ? 1 : 0);
  });
  metrics.counter('hostnic_controller_watch_errors_total', 'Failed lists or watches per cache (each followed by a retry).', ['cache'], function collect() {
    this.reset();
    for (const [cache, i] of caches) this.inc({ cache }, i.stats.errors);
  });
  metrics.gauge('hostnic_controller_queue_depth', 'Keys waiting per work queue (leader only).', ['queue'], function collect() {
    this.reset();
    for (const [queue, depth] of Object.entries(s.loops.queueDepths())) this.set({ queue }, depth);
  });
  metrics.gauge('hostnic_vxnetpool_ready', 'status.ready of VxNetPool v-pool.', [], function collect() {
    this.reset();
    const vp = s.informers.vxnetpools.get(VXNET_POOL_NAME);
    if (vp !== undefined) this.set((vp.status as { ready?: boolean } | undefined)?.ready === true ? 1 : 0);
  });
  metrics.gauge('hostnic_ippool_addresses', 'Addresses of each IPPool by state (from its status).', ['pool', 'state'], function collect() {
    this.reset();
    for (const p of s.informers.ippools.list()) {
      const st = p.status as { capacity?: number; allocations?: number; unallocated?: number; reserved?: number } | undefined;
      if (st === undefined) continue;
      for (const [state, v] of [['capacity', st.capacity], ['allocated', st.allocations], ['free', st.unallocated], ['reserved', st.reserved]] as const) {
        if (typeof v === 'number') this.set({ pool: p.metadata.name ?? '', state }, v);
      }
    }
  });
  metrics.gauge('hostnic_ipam_block_free', 'Free addresses per IPAMBlock.', ['block', 'pool'], function collect() {
    this.reset();
    for (const b of s.cachedBlocks()) {
      if (b.spec !== undefined) this.set({ block: b.metadata.name, pool: b.metadata.labels?.[LABEL_POOL_NAME] ?? '' }, freeCount(b.spec));
    }
  });
  metrics.counter('hostnic_ipam_gc_released_total', 'Leaked pod addresses released by the controller (this term).', [], function collect() {
    this.reset();
    this.inc(s.loops.totals.ipamReleased);
  });
  metrics.counter('hostnic_nic_gc_deleted_total', 'Leaked NICs deleted by the controller (this term).', [], function collect() {
    this.reset();
    this.inc(s.loops.totals.nicsDeleted);
  });
}
