/**
 * Cutting a pool into blocks: block size rules, block CIDRs, per-block reservations and fresh blocks
 * (generation, per-block reservation, a fresh block), plus the one block order used everywhere.
 *
 * @packageDocumentation
 */
import { formatCidr, parseCidr, parseIPv4, prefixSize } from './address.ts';
import { InvalidBlockSizeError } from './errors.ts';
import { blockName } from './naming.ts';
import { poolIdOf } from './pool.ts';
import type { AllocationAttribute, IPAMBlock, IPAMBlockSpec, IPPool } from './types.ts';
import { LABEL_POOL_NAME, RESERVED_HANDLE, RESERVED_NOTE } from './types.ts';

/** Block size used when a pool has none (the CRD's documented default). */
export const DEFAULT_BLOCK_SIZE = 26;
/** Largest block size worth using: /31 and /32 blocks make one object per one or two addresses. */
export const MAX_RECOMMENDED_BLOCK_SIZE = 30;

/**
 * The attribute row owning every reserved ordinal; `attributes[0]` of every block hostnic creates [compat].
 */
export const RESERVED_ATTRIBUTE: AllocationAttribute = Object.freeze({
  handle_id: RESERVED_HANDLE,
  secondary: Object.freeze({ note: RESERVED_NOTE }),
});

/**
 * The effective block size of a pool: `blockSize`, or {@link DEFAULT_BLOCK_SIZE} when absent. It must be an
 * integer with `pool prefix ≤ blockSize ≤ 32` (values above {@link MAX_RECOMMENDED_BLOCK_SIZE} are allowed
 * but not recommended).
 * @param blockSize - the configured size, or undefined
 * @param poolCidr - the pool CIDR
 * @param field - the field name used in the error (default `spec.blockSize`)
 * @throws {@link InvalidBlockSizeError} naming `field`
 * @throws {@link InvalidCidrError} when `poolCidr` is malformed
 */
export function resolveBlockSize(blockSize: number | undefined, poolCidr: string, field = 'spec.blockSize'): number {
  const { prefix } = parseCidr(poolCidr, 'spec.cidr');
  const size = blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(size) || size < prefix || size > 32) throw new InvalidBlockSizeError(field, blockSize ?? size, prefix);
  return size;
}

/**
 * The masked form of a pool CIDR (`192.168.0.1/24` → `192.168.0.0/24`), so blocks never come out misaligned.
 * @param cidr - the pool CIDR
 * @throws {@link InvalidCidrError}
 */
export function normalisePoolCidr(cidr: string): string {
  const parsed = parseCidr(cidr, 'spec.cidr');
  return formatCidr(parsed.network, parsed.prefix);
}

/**
 * Number of blocks of a pool, `2^(blockSize − prefix)`.
 * @param poolCidr - the pool CIDR
 * @param blockSize - the block size (undefined = default)
 * @throws {@link InvalidBlockSizeError}, {@link InvalidCidrError}
 */
export function blockCount(poolCidr: string, blockSize?: number): number {
  const size = resolveBlockSize(blockSize, poolCidr);
  return 2 ** (size - parseCidr(poolCidr).prefix);
}

/**
 * The block CIDRs of a pool in ascending address order (the pool CIDR is masked first and
 * the block size validated). `172.16.3.0/24` at 27 → `172.16.3.0/27`, `172.16.3.32/27`, … `172.16.3.224/27`.
 * @param poolCidr - the pool CIDR
 * @param blockSize - the block size (undefined = default 26)
 * @throws {@link InvalidBlockSizeError}, {@link InvalidCidrError}
 */
export function generateBlockCidrs(poolCidr: string, blockSize?: number): string[] {
  const size = resolveBlockSize(blockSize, poolCidr);
  const pool = parseCidr(poolCidr, 'spec.cidr');
  const step = prefixSize(size);
  const out: string[] = [];
  for (let start = pool.network; start < pool.network + pool.size; start += step) out.push(formatCidr(start, size));
  return out;
}

/** The pod range of a pool, inclusive; an empty or absent bound means "no bound". */
export interface PoolRange {
  /** First allocatable address. */
  readonly rangeStart?: string | undefined;
  /** Last allocatable address. */
  readonly rangeEnd?: string | undefined;
}

/** How many ordinals a block reserves at each end. */
export interface BlockReservation {
  /** Ordinals `[0, startReserved)` are reserved. */
  readonly startReserved: number;
  /** Ordinals `[size − endReserved, size)` are reserved. */
  readonly endReserved: number;
}

/**
 * The per-block reservation for the addresses of a block outside `[rangeStart, rangeEnd]`, with
 * one fix over the original: a block wholly below `rangeStart` is reserved entirely (Go left it fully allocatable).
 * Counts are relative to the block's address as written in its CIDR.
 * @param blockCidr - the block CIDR
 * @param range - the pool range
 * @throws {@link InvalidCidrError}, {@link InvalidAddressError} (naming `spec.rangeStart`/`spec.rangeEnd`)
 */
export function blockReservation(blockCidr: string, range: PoolRange): BlockReservation {
  const block = parseCidr(blockCidr, 'block cidr');
  const n = block.size;
  let startReserved = 0;
  if (range.rangeStart !== undefined && range.rangeStart !== '') {
    const d = parseIPv4(range.rangeStart, 'spec.rangeStart') - block.address;
    startReserved = d < 0 ? 0 : d >= n ? n : d;
  }
  let endReserved = 0;
  if (range.rangeEnd !== undefined && range.rangeEnd !== '') {
    const d = parseIPv4(range.rangeEnd, 'spec.rangeEnd') - block.address;
    endReserved = d < 0 ? n : d >= n ? 0 : n - d - 1;
  }
  return { startReserved, endReserved };
}

/**
 * A fresh block spec. With a range (always, on the controller path) the reserved ordinals point at
 * `attributes[0]` = {@link RESERVED_ATTRIBUTE} — present even when nothing is reserved — and `unallocated`
 * is the ascending run of the others. With `range` null nothing is reserved and `attributes` is empty.
 * @param poolId - the pool ID
 * @param cidr - the block CIDR
 * @param range - the pool range, or null for no reservation descriptor
 * @throws {@link InvalidCidrError}, {@link InvalidAddressError}
 */
export function newBlockSpec(poolId: number, cidr: string, range: PoolRange | null): IPAMBlockSpec {
  const n = parseCidr(cidr, 'block cidr').size;
  if (range === null) {
    return {
      id: poolId,
      cidr,
      allocations: new Array<number | null>(n).fill(null),
      unallocated: Array.from({ length: n }, (_, i) => i),
      attributes: [],
      deleted: false,
    };
  }
  const { startReserved, endReserved } = blockReservation(cidr, range);
  const allocations: (number | null)[] = [];
  const unallocated: number[] = [];
  for (let ordinal = 0; ordinal < n; ordinal++) {
    if (ordinal < startReserved || ordinal >= n - endReserved) {
      allocations.push(0);
    } else {
      allocations.push(null);
      unallocated.push(ordinal);
    }
  }
  return { id: poolId, cidr, allocations, unallocated, attributes: [RESERVED_ATTRIBUTE], deleted: false };
}

/**
 * A fresh IPAMBlock of a pool: name `<id>-<cidrName>`, label `ippool.network.qingcloud.com/name: <pool>`, and
 * the pool's range reserved. Owner references are the store's business.
 * @param pool - the pool
 * @param cidr - one of the pool's block CIDRs (see {@link generateBlockCidrs})
 */
export function newBlock(pool: IPPool, cidr: string): IPAMBlock {
  const id = poolIdOf(pool.spec);
  return {
    metadata: { name: blockName(id, cidr), labels: { [LABEL_POOL_NAME]: pool.metadata.name } },
    spec: newBlockSpec(id, cidr, { rangeStart: pool.spec.rangeStart, rangeEnd: pool.spec.rangeEnd }),
  };
}

/**
 * The blocks of a pool that do not exist yet, in ascending order (what the controller creates).
 * @param pool - the pool
 * @param existingNames - names of the pool's existing IPAMBlocks
 * @throws {@link InvalidBlockSizeError}, {@link InvalidCidrError}, {@link InvalidAddressError}
 */
export function missingBlocks(pool: IPPool, existingNames: Iterable<string>): IPAMBlock[] {
  const existing = new Set(existingNames);
  const id = poolIdOf(pool.spec);
  return generateBlockCidrs(pool.spec.cidr, pool.spec.blockSize)
    .filter((cidr) => !existing.has(blockName(id, cidr)))
    .map((cidr) => newBlock(pool, cidr));
}

/** Parsed form of a block name `<id>-a-b-c-d-p`. */
export interface ParsedBlockName {
  /** Pool ID. */
  readonly id: number;
  /** Masked block CIDR. */
  readonly cidr: string;
}

/**
 * Parses a block name such as `4100-172-16-3-0-27`.
 * @param name - a block name
 * @returns the ID and CIDR, or undefined when the name is not of that form
 */
export function parseBlockName(name: string): ParsedBlockName | undefined {
  const match = /^([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)$/.exec(name);
  if (match === null) return undefined;
  const [, id, a, b, c, d, p] = match;
  const text = `${a}.${b}.${c}.${d}/${p}`;
  try {
    const cidr = parseCidr(text);
    return { id: Number(id), cidr: formatCidr(cidr.network, cidr.prefix) };
  } catch {
    return undefined;
  }
}

function orderKey(id: number, cidr: string): [number, number, number] | undefined {
  try {
    const parsed = parseCidr(cidr);
    return [parsed.address, parsed.prefix, id];
  } catch {
    return undefined;
  }
}

function compareKeys(a: [number, number, number] | undefined, b: [number, number, number] | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The block order used everywhere in hostnic: ascending numeric start address, then prefix
 * length, then pool ID; blocks with a malformed CIDR sort last. (Go's docs show string order; numeric order is
 * the deliberate choice here.)
 * @param a - a block spec
 * @param b - a block spec
 */
export function compareBlockSpecs(a: Pick<IPAMBlockSpec, 'id' | 'cidr'>, b: Pick<IPAMBlockSpec, 'id' | 'cidr'>): number {
  return compareKeys(orderKey(a.id, a.cidr), orderKey(b.id, b.cidr));
}

/**
 * Compares block names in the order of {@link compareBlockSpecs}; names that do not parse sort last, among
 * themselves by string.
 * @param a - a block name
 * @param b - a block name
 */
export function compareBlockNames(a: string, b: string): number {
  const pa = parseBlockName(a);
  const pb = parseBlockName(b);
  const byKey = compareKeys(
    pa === undefined ? undefined : orderKey(pa.id, pa.cidr),
    pb === undefined ? undefined : orderKey(pb.id, pb.cidr),
  );
  return byKey !== 0 ? byKey : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A sorted copy of `blocks` in the order of {@link compareBlockSpecs} (ties broken by name).
 * @param blocks - IPAMBlocks
 */
export function sortBlocks<T extends IPAMBlock>(blocks: readonly T[]): T[] {
  return [...blocks].sort(
    (a, b) =>
      compareBlockSpecs(a.spec, b.spec) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
  );
}

/**
 * The blocks labelled with a pool's name, sorted (see {@link sortBlocks}).
 * @param poolName - the IPPool name
 * @param blocks - any IPAMBlocks
 */
export function blocksOfPool<T extends IPAMBlock>(poolName: string, blocks: readonly T[]): T[] {
  return sortBlocks(blocks.filter((b) => b.metadata.labels?.[LABEL_POOL_NAME] === poolName));
}
