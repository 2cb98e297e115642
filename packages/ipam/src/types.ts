/**
 * The CRD-shaped data the IPAM works on (API group `network.qingcloud.com/v1alpha1`).
 *
 * JSON field names are a compatibility contract with objects written by the Go hostnic: they are kept
 * byte-identical, including the snake_case `handle_id` inside block attributes. The one addition is the
 * optional {@link IPAMBlockSpec.releasedAt} (release cooldown). Only the metadata the IPAM reads is modelled;
 * stores add `resourceVersion`, owner references and the like on their side.
 *
 * All types are readonly: the functions of this package never mutate their inputs, they return new objects.
 *
 * @packageDocumentation
 */

/** API group of the hostnic CRDs. */
export const API_GROUP = 'network.qingcloud.com';
/** API version string of the hostnic CRDs. */
export const API_VERSION = 'network.qingcloud.com/v1alpha1';
/** Kinds of the hostnic CRDs, all cluster-scoped. */
export const Kind = {
  VxNetPool: 'VxNetPool',
  IPPool: 'IPPool',
  IPAMBlock: 'IPAMBlock',
  IPAMHandle: 'IPAMHandle',
} as const;
/** One of the values of {@link Kind}. */
export type Kind = (typeof Kind)[keyof typeof Kind];

/** The only VxNetPool the controller processes. */
export const VXNET_POOL_NAME = 'v-pool';

/** Label on IPPools (and the only label on IPAMBlocks): the pool's name. */
export const LABEL_POOL_NAME = 'ippool.network.qingcloud.com/name';
/** Label on IPPools: the pool's `spec.type`. */
export const LABEL_POOL_TYPE = 'ippool.network.qingcloud.com/type';
/** Label on IPPools: the pool ID (e.g. `4100`). */
export const LABEL_POOL_ID = 'ippool.network.qingcloud.com/id';
/** Label on IPPools marking a default pool (read only by validation). */
export const LABEL_POOL_DEFAULT = 'ippool.network.qingcloud.com/default';
/** Label set on IPPools created by the VxNetPool controller: `controller: <pool name>`. */
export const LABEL_CONTROLLER = 'controller';
/** Finalizer the IPPool controller keeps on IPPools until their blocks are empty. */
export const FINALIZER_IPPOOL = 'finalizers.network.qingcloud.com/ippool';

/** `handle_id` of the attribute row that owns the reserved addresses of a block. */
export const RESERVED_HANDLE = 'kubesphere-reserved-handle';
/** `secondary.note` of the reserved attribute row. */
export const RESERVED_NOTE = 'kubesphere reserved';

/** Namespace of the IPAM ConfigMap. */
export const IPAM_CONFIGMAP_NAMESPACE = 'kube-system';
/** Name of the namespace→subnet mapping ConfigMap. */
export const IPAM_CONFIGMAP_NAME = 'hostnic-ipam-config';
/** ConfigMap data key switching auto mode (`on`/`off`). */
export const CONFIG_KEY_AUTO_ASSIGN = 'subnet-auto-assign';
/** ConfigMap data key holding the JSON mapping. */
export const CONFIG_KEY_IPAM = 'ipam';
/** Key inside the `ipam` mapping whose value names IPPools (vxnets) for unmapped namespaces. */
export const DEFAULT_MAPPING_KEY = 'Default';

/** Secondary attribute keys of a pod allocation (plus `ip`). */
export const AttributeKey = {
  Namespace: 'namespace',
  Pod: 'pod',
  Node: 'node',
  Timestamp: 'timestamp',
  Ip: 'ip',
  Note: 'note',
} as const;
/** One of the values of {@link AttributeKey}. */
export type AttributeKey = (typeof AttributeKey)[keyof typeof AttributeKey];

/** The object metadata the IPAM reads. */
export interface ObjectMeta {
  /** Object name. */
  readonly name: string;
  /** Labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** `spec.vlanConfig` of an IPPool; Go always serialises it (zero value `{vlanId: 0, master: ""}`). */
export interface VLANConfig {
  /** VLAN ID, 0 … 4096. */
  readonly vlanId: number;
  /** Master interface. */
  readonly master: string;
}

/** A route copied into the CNI result. */
export interface Route {
  /** Destination CIDR. */
  readonly dst: string;
  /** Next hop. */
  readonly gateway?: string;
}

/** DNS settings copied into the CNI result; Go always serialises it (`{}` when empty). */
export interface DNS {
  /** Name servers. */
  readonly nameservers?: readonly string[];
  /** Local domain. */
  readonly domain?: string;
  /** Search domains. */
  readonly search?: readonly string[];
  /** Resolver options. */
  readonly options?: readonly string[];
}

/** IPPool `spec`. One pool per vxnet; `metadata.name` is the vxnet ID. */
export interface IPPoolSpec {
  /** Pool type: `local` for everything hostnic creates; see {@link PoolType}. */
  readonly type: string;
  /** The vxnet network, e.g. `172.16.3.0/24`. */
  readonly cidr: string;
  /** First allocatable address, inclusive; empty or absent = none. */
  readonly rangeStart?: string;
  /** Last allocatable address, inclusive; empty or absent = none. */
  readonly rangeEnd?: string;
  /** When true nothing is allocated from the pool. */
  readonly disabled?: boolean;
  /** Prefix length of the pool's blocks; absent = 26. */
  readonly blockSize?: number;
  /** Informational copy of the VxNetPool's value (already applied to `rangeEnd`). */
  readonly customReservedIPCount?: number;
  /** VLAN settings; always present. */
  readonly vlanConfig: VLANConfig;
  /** The vxnet's router manager IP. */
  readonly gateway?: string;
  /** Routes for the CNI result. */
  readonly routes?: readonly Route[];
  /** DNS for the CNI result; always present. */
  readonly dns: DNS;
}

/** IPPool `status`. */
export interface IPPoolStatus {
  /** Addresses in the pool CIDR. */
  readonly capacity: number;
  /** Addresses allocated to handles. */
  readonly allocations: number;
  /** Addresses still free. */
  readonly unallocated: number;
  /** Addresses reserved (outside the range). */
  readonly reserved?: number;
  /** Set on each status computation. */
  readonly synced?: boolean;
  /** Declared, never written (KubeSphere leftover). */
  readonly workspaces?: Readonly<Record<string, { readonly allocations: number }>>;
}

/** An IPPool object. */
export interface IPPool {
  /** Metadata; `name` is the vxnet ID. */
  readonly metadata: ObjectMeta;
  /** Spec. */
  readonly spec: IPPoolSpec;
  /** Status, when computed. */
  readonly status?: IPPoolStatus;
}

/** One attribute row of a block: the owner of the ordinals pointing at it. */
export interface AllocationAttribute {
  /** Owner handle ID. */
  readonly handle_id?: string;
  /** Extra data: `namespace`, `pod`, `node`, `timestamp`, `ip` for pods; `note` for the reserved row. */
  readonly secondary?: Readonly<Record<string, string>>;
}

/** IPAMBlock `spec`: one block ("subnet") of a pool. */
export interface IPAMBlockSpec {
  /** The pool ID (4100 for `local`). */
  readonly id: number;
  /** Block CIDR as generated, e.g. `172.16.3.32/27`. Ordinals count from this address as written. */
  readonly cidr: string;
  /** Per ordinal: index into `attributes`, or `null` when free. Length = block size. */
  readonly allocations: readonly (number | null)[];
  /** Ordered free list: allocation takes from the front, release appends at the back. */
  readonly unallocated: readonly number[];
  /** Allocation owners; a row may be shared by several ordinals. */
  readonly attributes: readonly AllocationAttribute[];
  /** Two-phase delete marker. */
  readonly deleted: boolean;
  /**
   * Release cooldown (hostnic addition, absent in Go-written blocks): ordinal as a decimal string → RFC 3339
   * UTC time of its release. An ordinal listed here is not handed out again until the cooldown has passed.
   * Omitted when empty.
   */
  readonly releasedAt?: Readonly<Record<string, string>>;
}

/** An IPAMBlock object; `metadata.name` is `<id>-<cidrName>`, label {@link LABEL_POOL_NAME}. */
export interface IPAMBlock {
  /** Metadata. */
  readonly metadata: ObjectMeta;
  /** Spec. */
  readonly spec: IPAMBlockSpec;
}

/** IPAMHandle `spec`: how many addresses an owner holds in which blocks. */
export interface IPAMHandleSpec {
  /** Same as the object name. */
  readonly handleID: string;
  /** Block string key (`4100-172.16.3.0/27`) → number of addresses held there. */
  readonly block: Readonly<Record<string, number>>;
  /** Two-phase delete marker. */
  readonly deleted: boolean;
}

/** An IPAMHandle object. */
export interface IPAMHandle {
  /** Metadata; `name` is the handle ID. */
  readonly metadata: ObjectMeta;
  /** Spec. */
  readonly spec: IPAMHandleSpec;
}

/** A vxnet listed in the VxNetPool spec. */
export interface VxNetRef {
  /** QingCloud vxnet ID (`vxnet-xxxxxxx`). */
  readonly name: string;
}

/** VxNetPool `spec` (user intent). */
export interface VxNetPoolSpec {
  /** Vxnets used for pods, in order of preference. */
  readonly vxnets: readonly VxNetRef[];
  /** Prefix length of the blocks each vxnet is cut into. */
  readonly blockSize: number;
  /** Extra addresses kept out of the pod range of VLAN vxnets. */
  readonly customReservedIPCount?: number;
}

/** One entry of VxNetPool `status.pools`. */
export interface PoolInfo {
  /** The vxnet ID. */
  readonly name: string;
  /** The IPPool name (= vxnet ID). */
  readonly ippool: string;
  /** Names of the pool's IPAMBlocks. */
  readonly subnets?: readonly string[];
}

/** VxNetPool `status`. */
export interface VxNetPoolStatus {
  /** True when IaaS and Kubernetes preparation completed for every vxnet. */
  readonly ready: boolean;
  /** One entry per spec vxnet, in spec order. */
  readonly pools?: readonly PoolInfo[];
  /** Declared, never written. */
  readonly message?: string;
  /** Declared, never written. */
  readonly process?: string;
}

/** A VxNetPool object (only `v-pool` is processed). */
export interface VxNetPool {
  /** Metadata. */
  readonly metadata: ObjectMeta;
  /** Spec. */
  readonly spec: VxNetPoolSpec;
  /** Status. */
  readonly status?: VxNetPoolStatus;
}
