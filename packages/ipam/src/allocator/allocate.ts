/**
 * One allocation, written through the store with compare-and-swap (docs/ipam.md#allocation):
 *
 * 1. A handle that already holds an address in an eligible block gets it back, with no write (idempotency).
 *    Counts the handle keeps for blocks that hold nothing for it (left by a crash or a failed rollback) are
 *    corrected in the handle write of step 3, at no extra cost.
 * 2. For each candidate block (see `candidates.ts`), from its latest read: plan the assignment on a new spec
 *    (the read object is never touched). A block with nothing available is passed over — no write, no retry.
 * 3. Count the address in the handle (create or update it, compare-and-swap), then write the block
 *    (compare-and-swap). That is two writes; a retry on the same block reuses the handle write.
 * 4. A lost block write re-reads the block and plans again; the block is left once it is full. After
 *    `maxAttempts` lost writes the allocation fails with {@link MaxRetriesError}. Any other failure ends it at
 *    once. Either way the handle count is taken back before the error is thrown.
 *
 * @packageDocumentation
 */
import type { BlockAddress } from '../block.ts';
import { assignAddresses, assignFixedAddress, blockContains, handleAddresses } from '../block.ts';
import { AddressOutOfRangeError, IpamError, MaxRetriesError, PoolExhaustedError } from '../errors.ts';
import type { AllocationSource } from '../mapping.ts';
import { resolvedAllocationSources } from '../mapping.ts';
import { blockKey, blockNameFromKey } from '../naming.ts';
import type { Versioned } from '../store.ts';
import type { IPAMBlock, IPAMBlockSpec, IPAMHandle, IPPool } from '../types.ts';
import { LABEL_POOL_NAME } from '../types.ts';
import type { Candidate } from './candidates.ts';
import { candidateBlocks, ScanNotes } from './candidates.ts';
import type { CallContext } from './context.ts';
import { isConflict } from './context.ts';
import { HandleClaim } from './handle-claim.ts';
import type { MappingMemory } from './mapping-memory.ts';
import type { StartHints } from './spread.ts';
import type { Allocation } from './types.ts';

/** A validated allocation request. */
export interface AllocationInput {
  readonly handleId: string;
  readonly namespace: string;
  readonly node: string;
  readonly fixedIps: readonly string[];
  readonly secondary: Readonly<Record<string, string>>;
}

type Plan =
  | { readonly kind: 'assign'; readonly spec: IPAMBlockSpec; readonly address: BlockAddress }
  | { readonly kind: 'owned'; readonly address: BlockAddress }
  | { readonly kind: 'none' };

/** What the passed-over blocks had to say, for the final error. */
class Tally {
  readonly searched: string[] = [];
  coolingDown = 0;
  nextAvailableAt: Date | undefined;
  readonly fixedErrors = new Map<string, IpamError>();

  cooling(count: number, at: Date | undefined): void {
    this.coolingDown += count;
    if (at !== undefined && (this.nextAvailableAt === undefined || at < this.nextAvailableAt)) this.nextAvailableAt = at;
  }
}

function plan(spec: IPAMBlockSpec, input: AllocationInput, ctx: CallContext, tally: Tally): Plan {
  const common = { handleId: input.handleId, secondary: input.secondary, now: ctx.now, cooldownMs: ctx.cooldownMs };
  if (input.fixedIps.length === 0) {
    const result = assignAddresses(spec, { ...common, count: 1 });
    const address = result.assigned[0];
    if (address !== undefined) return { kind: 'assign', spec: result.block, address };
    tally.cooling(result.coolingDown, result.nextAvailableAt);
    return { kind: 'none' };
  }
  for (const ip of input.fixedIps) {
    if (!blockContains(spec, ip)) continue;
    try {
      const result = assignFixedAddress(spec, { ...common, address: ip });
      if (result.alreadyOwned) return { kind: 'owned', address: result.assigned };
      return { kind: 'assign', spec: result.block, address: result.assigned };
    } catch (error) {
      if (!(error instanceof IpamError)) throw error;
      if (!tally.fixedErrors.has(ip)) tally.fixedErrors.set(ip, error);
    }
  }
  return { kind: 'none' };
}

function allocationOf(block: IPAMBlock, pool: IPPool | undefined, address: BlockAddress, reused: boolean, fixed: boolean): Allocation {
  return {
    address: address.address,
    addressWithPrefix: address.addressWithPrefix,
    pool: pool?.metadata.name ?? block.metadata.labels?.[LABEL_POOL_NAME] ?? '',
    block: block.metadata.name,
    gateway: pool?.spec.gateway,
    reused,
    fixed,
  };
}

function eligible(source: AllocationSource, block: IPAMBlock, address: string, fixedIps: readonly string[]): boolean {
  if (fixedIps.length > 0) return fixedIps.includes(address);
  if (source.kind === 'blocks') return source.names.includes(block.metadata.name);
  const pool = block.metadata.labels?.[LABEL_POOL_NAME];
  return pool !== undefined && source.names.includes(pool);
}

/** What the handle's blocks really hold for it, and an address among them that satisfies the request. */
interface HandleReview {
  /** A held address the request accepts. */
  readonly reuse: Allocation | undefined;
  /** Block key → the count the block really holds, for keys where the handle says otherwise. */
  readonly corrections: Readonly<Record<string, number>>;
}

async function review(
  ctx: CallContext,
  handle: Versioned<IPAMHandle>,
  source: AllocationSource,
  input: AllocationInput,
): Promise<HandleReview> {
  const corrections: Record<string, number> = {};
  for (const [key, count] of Object.entries(handle.object.spec.block).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let name: string;
    try {
      name = blockNameFromKey(key);
    } catch {
      corrections[key] = 0;
      continue;
    }
    const block = await ctx.io.getBlock(name);
    const held = block === undefined ? [] : handleAddresses(block.object.spec, input.handleId);
    if (held.length !== count) corrections[key] = held.length;
    const address = block === undefined ? undefined : held.find((a) => eligible(source, block.object, a.address, input.fixedIps));
    if (block === undefined || address === undefined) continue;
    const poolName = block.object.metadata.labels?.[LABEL_POOL_NAME];
    const pool = poolName === undefined ? undefined : (await ctx.io.getPool(poolName))?.object;
    return { reuse: allocationOf(block.object, pool, address, true, input.fixedIps.includes(address.address)), corrections: {} };
  }
  return { reuse: undefined, corrections };
}

function failure(input: AllocationInput, source: AllocationSource, tally: Tally, notes: ScanNotes): IpamError {
  if (tally.searched.length === 0 && notes.poolError !== undefined) return notes.poolError;
  if (input.fixedIps.length > 0) {
    for (const ip of input.fixedIps) {
      const error = tally.fixedErrors.get(ip);
      if (error !== undefined) return error;
    }
    const where = source.kind === 'blocks' ? `blocks [${source.names.join(' ')}]` : `the blocks of pools [${source.names.join(' ')}]`;
    return new AddressOutOfRangeError(input.fixedIps.join(','), where);
  }
  const details: string[] = [];
  if (tally.coolingDown > 0) {
    const when = tally.nextAvailableAt === undefined ? '' : `, the first at ${tally.nextAvailableAt.toISOString()}`;
    details.push(`${tally.coolingDown} released addresses are cooling down${when}`);
  }
  details.push(...notes.problems);
  return new PoolExhaustedError(
    tally.searched.length > 0 ? tally.searched : source.names,
    details.length === 0 ? undefined : details.join('; '),
  );
}

/**
 * Tries one candidate block until it is written or left.
 * @returns the allocation, or undefined to move on to the next candidate
 */
async function tryBlock(
  ctx: CallContext,
  input: AllocationInput,
  candidate: Candidate,
  claim: HandleClaim,
  tally: Tally,
  attempts: { count: number },
): Promise<Allocation | undefined> {
  const fixed = input.fixedIps.length > 0;
  let current: Versioned<IPAMBlock> | undefined = candidate.block;
  const name = candidate.block.object.metadata.name;
  tally.searched.push(name);
  while (current !== undefined) {
    const step = plan(current.object.spec, input, ctx, tally);
    if (step.kind === 'none') return undefined;
    if (step.kind === 'owned') {
      await claim.undo();
      return allocationOf(current.object, candidate.pool, step.address, true, fixed);
    }
    await claim.countIn(blockKey(current.object.spec.id, current.object.spec.cidr));
    try {
      await ctx.io.updateBlock({ ...current.object, spec: step.spec }, current.version);
      claim.keep();
      return allocationOf(current.object, candidate.pool, step.address, false, fixed);
    } catch (error) {
      if (!isConflict(error)) throw error;
      attempts.count++;
      if (attempts.count >= ctx.maxAttempts) throw new MaxRetriesError(attempts.count, input.handleId, `IPAMBlock ${name}`);
      await ctx.pacer.pause(attempts.count);
      current = await ctx.io.getBlock(name);
      // A write reported as lost may have landed (a store retrying an ambiguous failure): then it is ours.
      const landed = current !== undefined && handleAddresses(current.object.spec, input.handleId).some((a) => a.address === step.address.address);
      if (landed && current !== undefined) {
        claim.keep();
        return allocationOf(current.object, candidate.pool, step.address, false, fixed);
      }
    }
  }
  return undefined;
}

/**
 * Allocates one address for a handle.
 * @param ctx - the call
 * @param input - the validated request
 * @param hints - where nodes last allocated in each pool (updated on success)
 * @param mapping - the mapping in force, kept across bad ConfigMap changes
 */
export async function allocateAddress(ctx: CallContext, input: AllocationInput, hints: StartHints, mapping: MappingMemory): Promise<Allocation> {
  const source = resolvedAllocationSources(mapping.resolve((await ctx.io.getIpamConfig())?.object), input.namespace);
  const handle = await ctx.io.getHandle(input.handleId);
  let corrections: Readonly<Record<string, number>> = {};
  if (handle !== undefined) {
    const found = await review(ctx, handle, source, input);
    if (found.reuse !== undefined) return found.reuse;
    corrections = found.corrections;
  }

  const claim = new HandleClaim(ctx, input.handleId, handle, corrections);
  const tally = new Tally();
  const notes = new ScanNotes();
  const attempts = { count: 0 };
  try {
    for await (const candidate of candidateBlocks(ctx.io, source, input.node, input.fixedIps, notes, hints)) {
      const done = await tryBlock(ctx, input, candidate, claim, tally, attempts);
      if (done === undefined) continue;
      if (source.kind === 'pools') hints.set(done.pool, input.node, done.block);
      return done;
    }
    throw failure(input, source, tally, notes);
  } catch (error) {
    try {
      await claim.undo();
    } catch {
      // The allocation's own error matters more; an over-counted handle is repaired by the consistency check.
    }
    throw error;
  }
}
