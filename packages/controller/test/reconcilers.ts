/** The reconcilers of the controller wired to a harness, as the daemon wires them (without queues). */
import { Ipam } from '@hostnic/ipam';
import type { Harness } from './harness.ts';
import { VxnetPreparer } from '../src/iaas/preparer.ts';
import { clusterSecurityGroup } from '../src/iaas/security-group.ts';
import { openFence } from '../src/fence.ts';
import { VxNetPoolReconciler } from '../src/vxnetpool/reconciler.ts';
import type { VxNetPoolSyncResult } from '../src/vxnetpool/reconciler.ts';
import { IPPoolReconciler } from '../src/ippool/reconciler.ts';
import type { PodAddress } from '../src/vxnetpool/recovery.ts';
import type { ControllerFailpoint } from '../src/failpoints.ts';

export interface Reconcilers {
  readonly preparer: VxnetPreparer;
  readonly vxnetPool: VxNetPoolReconciler;
  readonly ippool: IPPoolReconciler;
  readonly ipam: Ipam;
  /** Syncs v-pool and every IPPool until v-pool is ready (or the bound passes). */
  settle(maxRounds?: number): Promise<VxNetPoolSyncResult | undefined>;
}

export interface ReconcilerOptions {
  readonly securityGroup?: string;
  readonly clusterId?: string;
  readonly pods?: () => PodAddress[] | undefined;
  /** Called between writes; one that never resolves stops the run there, as a SIGKILL would. */
  readonly failpoint?: ControllerFailpoint;
}

export function reconcilers(h: Harness, options: ReconcilerOptions = {}): Reconcilers {
  const failpoint = options.failpoint === undefined ? {} : { failpoint: options.failpoint };
  const preparer = new VxnetPreparer({
    iaas: h.iaas,
    securityGroup: clusterSecurityGroup({ iaas: h.iaas, securityGroup: options.securityGroup, clusterId: options.clusterId }),
    fence: openFence,
    jobTimeoutMs: 5_000,
    ...failpoint,
  });
  const vxnetPool = new VxNetPoolReconciler({
    pools: h.pools,
    store: h.store,
    iaas: preparer,
    events: h.events,
    podAddresses: options.pods ?? (() => []),
    ...failpoint,
  });
  const ippool = new IPPoolReconciler({ store: h.store, events: h.events, deletingResyncMs: 50, ...failpoint });
  const ipam = new Ipam(h.store, { cooldownMs: 0, backoff: false });
  return {
    preparer,
    vxnetPool,
    ippool,
    ipam,
    async settle(maxRounds = 200) {
      let result: VxNetPoolSyncResult | undefined;
      for (let i = 0; i < maxRounds; i++) {
        result = await vxnetPool.sync('v-pool');
        for (const pool of await h.store.listPools()) await ippool.sync(pool.object.metadata.name);
        if (result?.ready === true && result.draining.length === 0) return result;
        await new Promise((r) => setTimeout(r, 20));
      }
      return result;
    },
  };
}
