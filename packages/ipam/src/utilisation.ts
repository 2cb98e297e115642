/**
 * Utilisation of blocks and pools and the IPPool status derived from it.
 *
 * @packageDocumentation
 */
import { allocatedCount, blockSizeOf, freeCount, reservedCount } from './block.ts';
import { blocksOfPool } from './blocks.ts';
import { isAllocatablePoolType, poolAddressCounts } from './pool.ts';
import type { IPAMBlock, IPAMBlockSpec, IPPool, IPPoolStatus } from './types.ts';

/** Address counts; `capacity = allocated + unallocated + reserved`. */
export interface Utilisation {
  /** Addresses in the block or pool CIDR. */
  readonly capacity: number;
  /** Addresses held by handles. */
  readonly allocated: number;
  /** Free addresses (cooling ones included). */
  readonly unallocated: number;
  /** Reserved addresses. */
  readonly reserved: number;
}

/**
 * Utilisation of one block: capacity = size, reserved = reserved count, unallocated = free count,
 * allocated = the rest.
 * @param spec - the block
 * @throws {@link InvalidBlockError} when the block's CIDR is malformed
 */
export function blockUtilisation(spec: IPAMBlockSpec): Utilisation {
  return {
    capacity: blockSizeOf(spec),
    allocated: allocatedCount(spec),
    unallocated: freeCount(spec),
    reserved: reservedCount(spec),
  };
}

/**
 * Utilisation of a pool. Without blocks: the pool-level reservation. With blocks: reserved and
 * allocated summed over the blocks; addresses of blocks not created yet count as unallocated.
 * @param pool - the pool
 * @param blocks - the pool's blocks (pass all blocks; only those labelled with the pool are counted)
 * @throws {@link InvalidCidrError} / {@link InvalidBlockError} for malformed CIDRs
 */
export function poolUtilisation(pool: IPPool, blocks: readonly IPAMBlock[]): Utilisation {
  const counts = poolAddressCounts(pool.spec);
  const capacity = counts.numAddresses;
  const own = blocksOfPool(pool.metadata.name, blocks);
  if (own.length === 0) {
    const reserved = counts.startReserved + counts.endReserved;
    return { capacity, allocated: 0, unallocated: capacity - reserved, reserved };
  }
  let reserved = 0;
  let allocated = 0;
  for (const block of own) {
    reserved += reservedCount(block.spec);
    allocated += allocatedCount(block.spec);
  }
  return { capacity, allocated, unallocated: capacity - allocated - reserved, reserved };
}

/**
 * The IPPool status of a utilisation: `{capacity, allocations, unallocated, reserved, synced: true}`
 * (`reserved` omitted when 0, as Go serialises it).
 * @param utilisation - the pool's utilisation
 */
export function ippoolStatus(utilisation: Utilisation): IPPoolStatus {
  return {
    capacity: utilisation.capacity,
    allocations: utilisation.allocated,
    unallocated: utilisation.unallocated,
    // Go's omitempty drops a zero `reserved`; matching it keeps "write only when different" comparisons stable.
    ...(utilisation.reserved === 0 ? {} : { reserved: utilisation.reserved }),
    synced: true,
  };
}

/**
 * The `Default` pools worth trying for a pod: in the configured order, skipping names with no pool, disabled pools, pools of a type that cannot be allocated from, and pools
 * with no unallocated address — a pool with exactly one free address is used.
 * @param names - the configured pool names (e.g. `IpamConfig.defaultPools`)
 * @param pools - all IPPools
 * @param blocks - all IPAMBlocks
 */
export function poolsWithFreeAddresses(names: readonly string[], pools: readonly IPPool[], blocks: readonly IPAMBlock[]): IPPool[] {
  const byName = new Map(pools.map((pool) => [pool.metadata.name, pool]));
  const out: IPPool[] = [];
  for (const name of new Set(names)) {
    const pool = byName.get(name);
    if (pool === undefined || pool.spec.disabled === true || !isAllocatablePoolType(pool.spec.type)) continue;
    if (poolUtilisation(pool, blocks).unallocated >= 1) out.push(pool);
  }
  return out;
}
