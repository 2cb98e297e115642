/**
 * The blocks an allocation may use, in the order to try them:
 * a namespace's blocks in configured order (both modes; blocks whose pool is missing or disabled are skipped
 * before anything is written, where Go allocated and then leaked); else the `Default` pools in configured
 * order, each pool's blocks in block order rotated to the node's offset (see `spread.ts`).
 *
 * Blocks are produced one at a time and read by name, so an allocation whose first block has room costs one
 * block read, for namespace blocks and pool blocks alike.
 *
 * @packageDocumentation
 */
import { formatCidr, parseCidr, prefixSize } from '../address.ts';
import { blockContains } from '../block.ts';
import { blockCount, parseBlockName, resolveBlockSize, sortBlocks } from '../blocks.ts';
import type { IpamError } from '../errors.ts';
import { NoQualifiedPoolError } from '../errors.ts';
import type { AllocationSource } from '../mapping.ts';
import { blockName } from '../naming.ts';
import { assertPoolAllocatable, poolIdOf } from '../pool.ts';
import type { Versioned } from '../store.ts';
import type { IPAMBlock, IPPool } from '../types.ts';
import { LABEL_POOL_NAME } from '../types.ts';
import type { StoreIo } from './io.ts';
import type { StartHints } from './spread.ts';
import { nodeOffset } from './spread.ts';

/** A block to try and the pool it belongs to. */
export interface Candidate {
  /** The block as read. */
  readonly block: Versioned<IPAMBlock>;
  /** Its pool, known to be allocatable. */
  readonly pool: IPPool;
}

/** What the scan saw besides candidates, for the error when nothing fits. */
export class ScanNotes {
  /** Why sources were passed over. */
  readonly problems: string[] = [];
  /** The first pool error met (disabled pool, unknown type, missing pool). */
  poolError: IpamError | undefined;

  /** @param problem - why a source was passed over */
  note(problem: string): void {
    this.problems.push(problem);
  }
}

class PoolLookup {
  readonly #io: StoreIo;
  readonly #notes: ScanNotes;
  readonly #seen = new Map<string, IPPool | undefined>();

  constructor(io: StoreIo, notes: ScanNotes) {
    this.#io = io;
    this.#notes = notes;
  }

  /** The pool if it exists and can be allocated from; otherwise notes why not. */
  async usable(name: string): Promise<IPPool | undefined> {
    if (this.#seen.has(name)) return this.#seen.get(name);
    const pool = (await this.#io.getPool(name))?.object;
    let usable: IPPool | undefined;
    if (pool === undefined) {
      this.#notes.note(`pool ${name} does not exist`);
      this.#notes.poolError ??= new NoQualifiedPoolError(name, 'does not exist');
    } else {
      try {
        assertPoolAllocatable(pool);
        usable = pool;
      } catch (error) {
        this.#notes.note((error as Error).message);
        this.#notes.poolError ??= error as IpamError;
      }
    }
    this.#seen.set(name, usable);
    return usable;
  }
}

function mayHoldAny(blockName: string, fixedIps: readonly string[]): boolean {
  const parsed = parseBlockName(blockName);
  // A name that does not parse says nothing about the CIDR: read the block to find out.
  return parsed === undefined || fixedIps.some((ip) => blockContains({ cidr: parsed.cidr }, ip));
}

/** After this many missing blocks in a row the pool's blocks are listed instead (blocks not created yet). */
const MISSING_BEFORE_LIST = 4;
/**
 * After this many blocks read by name and passed over (full), one list is cheaper than reading on: it shows
 * every block's room at once, which bounds the reads of an allocation from a nearly full pool.
 */
const PASSED_BEFORE_LIST = 8;

/**
 * The names of a pool's blocks as the controller cuts them, in block order, computed one at a time (a /16 at
 * /26 has 1024); empty when the pool's CIDR or block size is invalid.
 */
function* cutNames(pool: IPPool, start: number): Generator<string> {
  let size: number;
  let network: number;
  let count: number;
  try {
    size = resolveBlockSize(pool.spec.blockSize, pool.spec.cidr);
    network = parseCidr(pool.spec.cidr).network;
    count = blockCount(pool.spec.cidr, pool.spec.blockSize);
  } catch {
    return;
  }
  const id = poolIdOf(pool.spec);
  const step = prefixSize(size);
  for (let i = 0; i < count; i++) yield blockName(id, formatCidr(network + ((start + i) % count) * step, size));
}

/** The position of a block among the pool's cut, or undefined when it is not one of them. */
function startIndex(pool: IPPool, blockName: string | undefined): number | undefined {
  const parsed = blockName === undefined ? undefined : parseBlockName(blockName);
  if (parsed === undefined) return undefined;
  try {
    const size = resolveBlockSize(pool.spec.blockSize, pool.spec.cidr);
    const block = parseCidr(parsed.cidr);
    const network = parseCidr(pool.spec.cidr).network;
    const index = (block.network - network) / prefixSize(size);
    return block.prefix === size && Number.isInteger(index) && index >= 0 ? index : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A pool's blocks: first by name, from the block where this node last allocated in the pool (else from its
 * offset), so an allocation costs one block read when that block has room, where a list would read every
 * block of the pool; then — only when those did not do — every block listed by the pool label that was not
 * tried yet (blocks cut with another block size, not created yet, or not reached before the scan gave up).
 */
async function* poolBlocks(
  io: StoreIo,
  pool: IPPool,
  node: string,
  fixedIps: readonly string[],
  notes: ScanNotes,
  hints: StartHints,
): AsyncGenerator<Candidate> {
  const poolName = pool.metadata.name;
  const fixed = fixedIps.length > 0;
  const fits = (block: Versioned<IPAMBlock>): boolean =>
    block.object.metadata.labels?.[LABEL_POOL_NAME] === poolName &&
    (!fixed || fixedIps.some((ip) => blockContains(block.object.spec, ip)));
  let count = 0;
  try {
    count = blockCount(pool.spec.cidr, pool.spec.blockSize);
  } catch {
    // An invalid pool has no standard cut; its blocks are found by the list below.
  }
  const tried = new Set<string>();
  let found = 0;
  let missing = 0;
  let passed = 0;
  const start = fixed ? 0 : (startIndex(pool, hints.get(poolName, node)) ?? nodeOffset(node, count));
  for (const name of cutNames(pool, start)) {
    if (fixed && !mayHoldAny(name, fixedIps)) continue;
    tried.add(name);
    const block = await io.getBlock(name);
    if (block === undefined) {
      if (++missing >= MISSING_BEFORE_LIST) break;
      continue;
    }
    missing = 0;
    found++;
    if (!fits(block)) continue;
    // The caller resumes this generator only when the block did not do.
    yield { block, pool };
    if (++passed >= PASSED_BEFORE_LIST) break;
  }
  const listed = (await io.listBlocks({ pool: poolName })).filter((v) => !tried.has(v.object.metadata.name));
  if (found === 0 && listed.length === 0) notes.note(`pool ${poolName} has no blocks yet`);
  const byName = new Map(listed.map((v) => [v.object.metadata.name, v]));
  for (const block of sortBlocks(listed.map((v) => v.object))) {
    const versioned = byName.get(block.metadata.name);
    if (versioned !== undefined && fits(versioned)) yield { block: versioned, pool };
  }
}

/**
 * The candidate blocks of a source.
 * @param io - store access
 * @param source - the namespace's blocks or the `Default` pools
 * @param node - the requesting node
 * @param fixedIps - requested addresses; when non-empty only blocks containing one of them are produced
 * @param notes - collects why sources were passed over
 * @param hints - where this node last allocated in each pool
 */
export async function* candidateBlocks(
  io: StoreIo,
  source: AllocationSource,
  node: string,
  fixedIps: readonly string[],
  notes: ScanNotes,
  hints: StartHints,
): AsyncGenerator<Candidate> {
  const pools = new PoolLookup(io, notes);
  const fixed = fixedIps.length > 0;
  if (source.kind === 'blocks') {
    for (const name of new Set(source.names)) {
      if (fixed && !mayHoldAny(name, fixedIps)) continue;
      const block = await io.getBlock(name);
      if (block === undefined) {
        notes.note(`block ${name} does not exist`);
        continue;
      }
      if (fixed && !fixedIps.some((ip) => blockContains(block.object.spec, ip))) continue;
      const poolName = block.object.metadata.labels?.[LABEL_POOL_NAME];
      if (poolName === undefined) {
        notes.note(`block ${name} has no ${LABEL_POOL_NAME} label`);
        continue;
      }
      const pool = await pools.usable(poolName);
      if (pool !== undefined) yield { block, pool };
    }
    return;
  }
  for (const poolName of new Set(source.names)) {
    const pool = await pools.usable(poolName);
    if (pool === undefined) continue;
    yield* poolBlocks(io, pool, node, fixedIps, notes, hints);
  }
}
