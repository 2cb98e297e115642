/**
 * What `GET /v1/pools` (and `hostnic-agent inspect pools`) shows: each IPAM pool (vxnet) with the cluster's
 * figures next to this node's side of it — its NIC, the pods on it here, and whether the warm pool keeps it.
 */
import type { IpamUtilisation } from '@hostnic/ipam';
import type { NicRecord, PodRecord } from '../types.ts';
import { byCodeUnits } from '../order.ts';

export interface PoolView {
  /** The IPPool, i.e. the vxnet ID. */
  readonly name: string;
  readonly blocks: number;
  readonly capacity: number;
  readonly reserved: number;
  readonly allocated: number;
  readonly free: number;
  /** This node's NIC on the vxnet, when it has one. */
  readonly nicId: string | null;
  readonly nicPhase: string | null;
  /** Pods of this node on the vxnet. */
  readonly podsHere: number;
  /** Kept attached by the warm pool. */
  readonly warm: boolean;
}

export function poolsView(
  usage: Pick<IpamUtilisation, 'pools'>,
  node: { readonly nics: readonly NicRecord[]; readonly pods: readonly PodRecord[] },
  warm: ReadonlySet<string>,
): PoolView[] {
  return [...usage.pools]
    .sort((a, b) => byCodeUnits(a.name, b.name))
    .map((p) => {
      const nic = node.nics.find((n) => n.vxnet.vxnetId === p.name);
      return {
        name: p.name,
        blocks: p.blocks,
        capacity: p.capacity,
        reserved: p.reserved,
        allocated: p.allocated,
        free: p.unallocated,
        nicId: nic?.nicId ?? null,
        nicPhase: nic?.phase ?? null,
        podsHere: node.pods.filter((pod) => pod.vxnetId === p.name).length,
        warm: warm.has(p.name),
      };
    });
}
