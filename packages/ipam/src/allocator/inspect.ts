/**
 * Read-only views: a handle's addresses, utilisation per pool, block and namespace, and the snapshot the
 * consistency check runs on.
 *
 * @packageDocumentation
 */
import type { CooldownOptions } from '../block.ts';
import { checkBlock, coolingUntil, handleAddresses, isReservedAttribute } from '../block.ts';
import { blocksOfPool, sortBlocks } from '../blocks.ts';
import type { ConsistencyReport, LivePod } from '../consistency.ts';
import { checkConsistency } from '../consistency.ts';
import type { IpamConfig } from '../mapping.ts';
import { EMPTY_IPAM_CONFIG, parseIpamConfig } from '../mapping.ts';
import { blockNameFromKey } from '../naming.ts';
import type { IPAMBlock } from '../types.ts';
import { AttributeKey, LABEL_POOL_NAME } from '../types.ts';
import type { Utilisation } from '../utilisation.ts';
import { blockUtilisation, poolUtilisation } from '../utilisation.ts';
import type { StoreIo } from './io.ts';
import type { BlockUsage, HeldAddress, IpamUtilisation, NamespaceUsage, PoolUsage } from './types.ts';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The addresses a handle holds, per the blocks it names (missing blocks are skipped).
 * @param io - store access
 * @param handleId - the handle
 */
export async function addressesOfHandle(io: StoreIo, handleId: string): Promise<HeldAddress[]> {
  const handle = await io.getHandle(handleId);
  if (handle === undefined) return [];
  const out: HeldAddress[] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(handle.object.spec.block).sort()) {
    let name: string;
    try {
      name = blockNameFromKey(key);
    } catch {
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    const block = await io.getBlock(name);
    if (block === undefined) continue;
    const pool = block.object.metadata.labels?.[LABEL_POOL_NAME];
    for (const a of handleAddresses(block.object.spec, handleId)) {
      out.push({ address: a.address, addressWithPrefix: a.addressWithPrefix, block: name, pool });
    }
  }
  return out;
}

/** Blocks whose geometry is broken cannot be counted; the consistency check reports them. */
function countable(block: IPAMBlock): boolean {
  return !checkBlock(block.spec).some((p) => p.kind === 'BadCidr' || p.kind === 'AllocationsLength');
}

function add(a: Utilisation, b: Utilisation): Utilisation {
  return {
    capacity: a.capacity + b.capacity,
    allocated: a.allocated + b.allocated,
    unallocated: a.unallocated + b.unallocated,
    reserved: a.reserved + b.reserved,
  };
}

const ZERO: Utilisation = { capacity: 0, allocated: 0, unallocated: 0, reserved: 0 };

function configOf(data: Readonly<Record<string, string>> | undefined): IpamConfig {
  try {
    return parseIpamConfig(data);
  } catch {
    // A report must not fail on a bad mapping (the webhook and `validateIpamConfig` deal with that).
    return EMPTY_IPAM_CONFIG;
  }
}

/**
 * Utilisation of every pool, block and namespace.
 * @param io - store access
 * @param cooldown - current time and cooldown, to count cooling addresses
 */
export async function utilisationOf(io: StoreIo, cooldown: CooldownOptions): Promise<IpamUtilisation> {
  const [pools, listed, configData] = await Promise.all([io.listPools(), io.listBlocks(), io.getIpamConfig()]);
  const blocks = sortBlocks(listed.map((v) => v.object).filter(countable));
  const byName = new Map(blocks.map((b) => [b.metadata.name, b]));

  const blockUsage: BlockUsage[] = blocks.map((block) => ({
    name: block.metadata.name,
    pool: block.metadata.labels?.[LABEL_POOL_NAME],
    ...blockUtilisation(block.spec),
    coolingDown: block.spec.unallocated.filter((o) => coolingUntil(block.spec, o, cooldown) !== undefined).length,
  }));

  const poolUsage: PoolUsage[] = pools
    .map((v) => v.object)
    .sort((a, b) => byString(a.metadata.name, b.metadata.name))
    .map((pool) => ({
      name: pool.metadata.name,
      ...poolUtilisation(pool, blocks),
      blocks: blocksOfPool(pool.metadata.name, blocks).length,
    }));

  const addresses = new Map<string, number>();
  for (const block of blocks) {
    for (const index of block.spec.allocations) {
      if (index === null) continue;
      const row = block.spec.attributes[index];
      const namespace = row?.secondary?.[AttributeKey.Namespace];
      if (row === undefined || isReservedAttribute(row) || namespace === undefined) continue;
      addresses.set(namespace, (addresses.get(namespace) ?? 0) + 1);
    }
  }
  const config = configOf(configData?.object);
  const namespaces = new Set([...config.namespaces.keys(), ...addresses.keys()]);
  const namespaceUsage: NamespaceUsage[] = [...namespaces].sort(byString).map((namespace) => {
    const mapped = config.namespaces.get(namespace) ?? [];
    let total = ZERO;
    for (const name of new Set(mapped)) {
      const block = byName.get(name);
      if (block !== undefined) total = add(total, blockUtilisation(block.spec));
    }
    return { namespace, blocks: [...mapped], ...total, addresses: addresses.get(namespace) ?? 0 };
  });

  return { pools: poolUsage, blocks: blockUsage, namespaces: namespaceUsage };
}

/**
 * Runs the consistency check on a snapshot of the store.
 * @param io - store access
 * @param livePods - every live pod
 * @param now - the current time
 * @param graceMs - grace period for leaked addresses
 * @param liveNodes - every node, when node claims of gone nodes are to be collected
 */
export async function checkStore(
  io: StoreIo,
  livePods: readonly LivePod[],
  now: Date,
  graceMs: number | undefined,
  liveNodes?: readonly string[],
): Promise<ConsistencyReport> {
  const [pools, blocks, handles] = await Promise.all([io.listPools(), io.listBlocks(), io.listHandles()]);
  return checkConsistency({
    pools: pools.map((v) => v.object),
    blocks: blocks.map((v) => v.object),
    handles: handles.map((v) => v.object),
    livePods,
    now,
    ...(graceMs === undefined ? {} : { graceMs }),
    liveNodes,
  });
}
