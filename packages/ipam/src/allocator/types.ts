/**
 * Requests and results of the allocator.
 *
 * @packageDocumentation
 */
import type { Utilisation } from '../utilisation.ts';

/** An allocation request: one address for a handle (a pod sandbox). */
export interface AllocateRequest {
  /** The owner, e.g. from `podHandleId(namespace, pod, containerId)`. */
  readonly handleId: string;
  /** The pod's namespace: selects the blocks or `Default` pools through the mapping ConfigMap. */
  readonly namespace: string;
  /** The pod's name (stored with the address). */
  readonly pod: string;
  /** The node the pod runs on (stored with the address; spreads nodes over a pool's blocks). */
  readonly node: string;
  /**
   * Requested addresses (the values of annotation `cni.projectcalico.org/ipAddrs`): the first one that is
   * free in an eligible block is taken. Empty or absent = any address.
   */
  readonly fixedIps?: readonly string[] | undefined;
  /** More secondary attributes stored with the address (`namespace`, `pod`, `node` win over these). */
  readonly attributes?: Readonly<Record<string, string>> | undefined;
  /** The time of the request (default: the allocator's clock). */
  readonly now?: Date | undefined;
}

/** An allocated address. */
export interface Allocation {
  /** The address, dotted decimal. */
  readonly address: string;
  /** The address with the block's prefix length, e.g. `172.16.3.2/27`. */
  readonly addressWithPrefix: string;
  /** The IPPool name, which is the vxnet ID (it selects the NIC). */
  readonly pool: string;
  /** The IPAMBlock name. */
  readonly block: string;
  /** The pool's gateway, when it has one. */
  readonly gateway: string | undefined;
  /** True when the handle already held this address and nothing was written (a repeated request). */
  readonly reused: boolean;
  /** True when the address was one of the requested fixed IPs. */
  readonly fixed: boolean;
}

/** An address held by a handle. */
export interface HeldAddress {
  /** The address, dotted decimal. */
  readonly address: string;
  /** The address with the block's prefix length. */
  readonly addressWithPrefix: string;
  /** The IPAMBlock name. */
  readonly block: string;
  /** The IPPool name from the block's label, when it has one. */
  readonly pool: string | undefined;
}

/** Per-block figures of {@link IpamUtilisation}. */
export interface BlockUsage extends Utilisation {
  /** The block name. */
  readonly name: string;
  /** The pool name from the block's label. */
  readonly pool: string | undefined;
  /** Free addresses still cooling down after their release. */
  readonly coolingDown: number;
}

/** Per-pool figures of {@link IpamUtilisation}. */
export interface PoolUsage extends Utilisation {
  /** The pool name (vxnet ID). */
  readonly name: string;
  /** How many blocks the pool has. */
  readonly blocks: number;
}

/** Per-namespace figures of {@link IpamUtilisation}. */
export interface NamespaceUsage extends Utilisation {
  /** The namespace. */
  readonly namespace: string;
  /** The blocks mapped to it in the ConfigMap, in configured order (the figures sum over them). */
  readonly blocks: readonly string[];
  /** Addresses whose attributes name this namespace, wherever they are (mapped blocks or `Default` pools). */
  readonly addresses: number;
}

/** Utilisation of the whole IPAM. */
export interface IpamUtilisation {
  /** Per pool, by name. */
  readonly pools: readonly PoolUsage[];
  /** Per block, in block order. */
  readonly blocks: readonly BlockUsage[];
  /** Per namespace (mapped or holding addresses), by name. */
  readonly namespaces: readonly NamespaceUsage[];
}

/** What {@link Ipam.repair} did. */
export interface RepairResult {
  /** Addresses released, per block and former owner. */
  readonly released: readonly { readonly block: string; readonly handleId: string; readonly addresses: readonly string[] }[];
  /** Addresses of live pods recorded in blocks that had forgotten them. */
  readonly recordedAddresses: readonly string[];
  /** Handles created for allocations that had none. */
  readonly createdHandles: readonly string[];
  /** Handles whose counts were corrected. */
  readonly updatedHandles: readonly string[];
  /** Handles deleted because they held nothing. */
  readonly deletedHandles: readonly string[];
  /** Actions not applied because the objects changed since the check (the next check will see them again). */
  readonly skipped: readonly { readonly action: string; readonly target: string; readonly reason: string }[];
}

/** The outcome of {@link Ipam.ensurePool}. */
export interface EnsurePoolResult {
  /** Whether the pool was created (false: it existed). */
  readonly createdPool: boolean;
  /** The blocks created, in block order. */
  readonly createdBlocks: readonly string[];
}
