/** VxnetInfo of a pool's vxnet, looked up once per vxnet (a vxnet's router does not change under a pod). */

import type { VxnetInfo } from '../types.ts';

export interface VxnetDescriber {
  describeVxnetsByIds(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, { vxnetId: string; tunnelType: string | undefined; router: { managerIp: string; ipNetwork: string } | null }>>;
}

export class VxnetNotUsableError extends Error {
  override name = 'VxnetNotUsableError';
}

export type VxnetLookup = (vxnetId: string, signal?: AbortSignal) => Promise<VxnetInfo>;

/** A cached lookup through DescribeVxnets; concurrent first lookups of one vxnet share one request. */
export function cachedVxnetLookup(iaas: VxnetDescriber, ttlMs = 10 * 60_000, now: () => number = Date.now): VxnetLookup {
  const cache = new Map<string, { at: number; info: Promise<VxnetInfo> }>();
  return (vxnetId, signal) => {
    const hit = cache.get(vxnetId);
    if (hit && now() - hit.at < ttlMs) return hit.info;
    const info = (async (): Promise<VxnetInfo> => {
      const found = (await iaas.describeVxnetsByIds([vxnetId], signal)).get(vxnetId);
      if (!found) throw new VxnetNotUsableError(`vxnet ${vxnetId} not found`);
      if (!found.router) throw new VxnetNotUsableError(`vxnet ${vxnetId} is not in a VPC (no router)`);
      return {
        vxnetId,
        gateway: found.router.managerIp,
        network: found.router.ipNetwork,
        tunnelType: found.tunnelType === 'vlan' ? 'vlan' : 'vxlan',
      };
    })();
    cache.set(vxnetId, { at: now(), info });
    // A failed lookup must not be served from the cache.
    info.catch(() => {
      if (cache.get(vxnetId)?.info === info) cache.delete(vxnetId);
    });
    return info;
  };
}

/**
 * `lookup`, but when the IaaS cannot be asked the vxnet of a recorded NIC is taken from its record (verified when
 * the NIC was set up): a warm ADD works while the IaaS is down; a vxnet without a NIC still needs the IaaS.
 */
export function lookupOrRecorded(lookup: VxnetLookup, recorded: (vxnetId: string) => Promise<{ vxnet: VxnetInfo } | undefined>): VxnetLookup {
  return async (vxnetId, signal) => {
    try {
      return await lookup(vxnetId, signal);
    } catch (e) {
      if (e instanceof VxnetNotUsableError) throw e;
      const nic = await recorded(vxnetId);
      if (nic === undefined) throw e;
      return { ...nic.vxnet };
    }
  };
}
