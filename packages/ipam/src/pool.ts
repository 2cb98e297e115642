/**
 * IPPool helpers: pool types and IDs, allocatability, pool-level reservations.
 *
 * @packageDocumentation
 */
import { isIPv4, ordinalFrom, parseCidr, parseIPv4 } from './address.ts';
import { NoQualifiedPoolError, UnknownPoolTypeError } from './errors.ts';
import type { VxNetPodRange } from './pool-range.ts';
import type { IPPool, IPPoolSpec } from './types.ts';
import { LABEL_CONTROLLER, LABEL_POOL_ID, LABEL_POOL_NAME, LABEL_POOL_TYPE } from './types.ts';

/** Known IPPool types. hostnic creates only `local`. */
export const PoolType = {
  Local: 'local',
  Vlan: 'vlan',
  Porter: 'porter',
  Pod: 'pod',
  Calico: 'calico',
} as const;
/** One of the values of {@link PoolType}. */
export type PoolType = (typeof PoolType)[keyof typeof PoolType];

/** Pool IDs of the fixed-ID types [compat]; `vlan` is `vlanId + 1`, unknown types 0. */
export const PoolId = {
  Local: 4100,
  Calico: 4099,
  Porter: 4098,
  Unknown: 0,
} as const;

const ALLOCATABLE_TYPES: ReadonlySet<string> = new Set([PoolType.Vlan, PoolType.Porter, PoolType.Pod, PoolType.Local]);
const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(PoolType));

/**
 * Whether `type` is one of the known {@link PoolType} values.
 * @param type - a pool `spec.type`
 */
export function isKnownPoolType(type: string): type is PoolType {
  return KNOWN_TYPES.has(type);
}

/**
 * The pool ID, used as block-name prefix [compat]: `local` 4100, `calico` 4099, `porter` 4098,
 * `vlan` `vlanConfig.vlanId + 1`, anything else 0.
 * @param spec - the pool spec (only `type` and `vlanConfig` are read)
 */
export function poolIdOf(spec: Pick<IPPoolSpec, 'type' | 'vlanConfig'>): number {
  switch (spec.type) {
    case PoolType.Local:
      return PoolId.Local;
    case PoolType.Calico:
      return PoolId.Calico;
    case PoolType.Porter:
      return PoolId.Porter;
    case PoolType.Vlan:
      return spec.vlanConfig.vlanId + 1;
    default:
      return PoolId.Unknown;
  }
}

/**
 * Whether addresses may be allocated from a pool of this type: `vlan`, `porter`, `pod`, `local`.
 * @param type - a pool `spec.type`
 */
export function isAllocatablePoolType(type: string): boolean {
  return ALLOCATABLE_TYPES.has(type);
}

/**
 * Checks that a pool can be allocated from.
 * @param pool - the pool
 * @throws {@link NoQualifiedPoolError} when the pool is disabled
 * @throws {@link UnknownPoolTypeError} when its type is not allocatable
 */
export function assertPoolAllocatable(pool: IPPool): void {
  if (pool.spec.disabled === true) {
    throw new NoQualifiedPoolError(pool.metadata.name, 'is disabled (it is being deleted or was removed from v-pool)');
  }
  if (!isAllocatablePoolType(pool.spec.type)) throw new UnknownPoolTypeError(pool.metadata.name, pool.spec.type);
}

/** Pool-level address counts. */
export interface PoolAddressCounts {
  /** `2^(32 − prefix)` of the pool CIDR. */
  readonly numAddresses: number;
  /** Pool ordinal of `rangeStart` (addresses below it are reserved); 0 when unset. */
  readonly startReserved: number;
  /** `numAddresses − ordinal(rangeEnd) − 1` (addresses above it are reserved); 0 when unset. */
  readonly endReserved: number;
}

function lenientPoolOrdinal(network: number, size: number, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!isIPv4(text)) return 0;
  // Go ignores the lookup error of an out-of-pool address and uses ordinal 0; validation rejects such pools.
  return ordinalFrom(network, size, parseIPv4(text)) ?? 0;
}

/**
 * Pool-level numbers, reproducing Go: ordinals count from the masked network; a `rangeStart`
 * or `rangeEnd` that is malformed or outside the pool counts as ordinal 0 (use `validateIPPoolSpec` to
 * reject such pools).
 * @param spec - the pool spec (`cidr`, `rangeStart`, `rangeEnd` are read)
 * @throws {@link InvalidCidrError} when `spec.cidr` is malformed
 */
export function poolAddressCounts(spec: Pick<IPPoolSpec, 'cidr' | 'rangeStart' | 'rangeEnd'>): PoolAddressCounts {
  const cidr = parseCidr(spec.cidr, 'spec.cidr');
  const start = lenientPoolOrdinal(cidr.network, cidr.size, spec.rangeStart);
  const end = lenientPoolOrdinal(cidr.network, cidr.size, spec.rangeEnd);
  return {
    numAddresses: cidr.size,
    startReserved: start ?? 0,
    endReserved: end === undefined ? 0 : cidr.size - end - 1,
  };
}

/**
 * The labels the IPPool controller puts on a pool [compat]: name, type and ID (merged over existing labels).
 * @param pool - the pool
 */
export function ippoolLabels(pool: IPPool): Record<string, string> {
  return {
    ...pool.metadata.labels,
    [LABEL_POOL_NAME]: pool.metadata.name,
    [LABEL_POOL_TYPE]: pool.spec.type,
    [LABEL_POOL_ID]: String(poolIdOf(pool.spec)),
  };
}

/**
 * The IPPool the VxNetPool controller creates for a vxnet: type `local`, the vxnet's
 * network, gateway and pod range, with `vlanConfig` and `dns` always present.
 * @param range - the vxnet's pod range (see `podRangeOfVxnet`)
 * @param blockSize - the VxNetPool's `spec.blockSize`
 */
export function newIPPool(range: VxNetPodRange, blockSize: number): IPPool {
  return {
    metadata: { name: range.vxnetId, labels: { [LABEL_CONTROLLER]: range.vxnetId } },
    spec: {
      type: PoolType.Local,
      cidr: range.network,
      gateway: range.gateway,
      rangeStart: range.ipStart,
      rangeEnd: range.ipEnd,
      blockSize,
      ...(range.customReservedIPCount === 0 ? {} : { customReservedIPCount: range.customReservedIPCount }),
      vlanConfig: { vlanId: 0, master: '' },
      dns: {},
    },
  };
}
