/**
 * The store side of a node's claim: taking a batch of addresses from the blocks of a source, telling the cluster
 * which pods use them, giving addresses back, and reading what a claim holds. Each block change is one
 * compare-and-swap write, retried on a lost race from a fresh read; the claim handle is then recounted from
 * the blocks it touched (block first: a crash in between leaves claimed addresses without a handle count,
 * which `ipam check` reports and repairs, never an address that two owners think is theirs).
 *
 * @packageDocumentation
 */
import { assignAddresses } from '../block.ts';
import { MaxRetriesError } from '../errors.ts';
import { isHandleEmpty, newHandle } from '../handle.ts';
import type { AllocationSource } from '../mapping.ts';
import { blockKey, blockNameFromKey } from '../naming.ts';
import type { IPAMBlock, IPAMBlockSpec } from '../types.ts';
import { LABEL_POOL_NAME } from '../types.ts';
import { candidateBlocks, ScanNotes } from '../allocator/candidates.ts';
import type { CallContext } from '../allocator/context.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../allocator/context.ts';
import type { StartHints } from '../allocator/spread.ts';
import type { ClaimEntry } from './ledger.ts';
import { claimHandleId } from './naming.ts';
import type { ClaimedAddress } from './rows.ts';
import { claimSecondary, claimedAddresses } from './rows.ts';

/** A change planned on a block's latest read: undefined = nothing to write. */
type BlockChange<T> = (spec: IPAMBlockSpec) => { spec: IPAMBlockSpec; result: T } | undefined;

/**
 * Applies a change to a block with compare-and-swap, planning again from a fresh read after a lost race.
 * @returns the change's result and the block as written, or undefined when the block is gone or unchanged
 */
export async function changeBlock<T>(
  ctx: CallContext,
  name: string,
  owner: string,
  change: BlockChange<T>,
): Promise<{ result: T; block: IPAMBlock } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await ctx.io.getBlock(name);
    if (current === undefined) return undefined;
    const planned = change(current.object.spec);
    if (planned === undefined) return undefined;
    const block = { ...current.object, spec: planned.spec };
    try {
      await ctx.io.updateBlock(block, current.version);
      return { result: planned.result, block };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (!isConflict(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, owner, `IPAMBlock ${name}`);
      await ctx.pacer.pause(attempt);
    }
  }
}

/**
 * Sets the claim handle's count of each given block to what the block holds for the claim (deleting the handle
 * when it counts nothing).
 * @param counts - block key → addresses the claim holds there
 */
export async function recountClaimHandle(ctx: CallContext, node: string, counts: ReadonlyMap<string, number>): Promise<void> {
  if (counts.size === 0) return;
  const handleId = claimHandleId(node);
  for (let attempt = 1; ; attempt++) {
    const current = await ctx.io.getHandle(handleId);
    const block: Record<string, number> = { ...current?.object.spec.block };
    for (const [key, count] of counts) {
      if (count > 0) block[key] = count;
      else delete block[key];
    }
    const spec = { ...(current?.object.spec ?? newHandle(handleId).spec), block };
    try {
      if (current === undefined) {
        if (!isHandleEmpty(spec)) await ctx.io.createHandle({ ...newHandle(handleId), spec });
      } else if (isHandleEmpty(spec)) {
        await ctx.io.deleteHandle(handleId, current.version);
      } else if (!sameCounts(spec.block, current.object.spec.block)) {
        await ctx.io.updateHandle({ ...current.object, spec }, current.version);
      }
      return;
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error) && !isNotFound(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, handleId, `IPAMHandle ${handleId}`);
      await ctx.pacer.pause(attempt);
    }
  }
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/** How many addresses a block holds for a node's claim. */
export function claimCount(spec: IPAMBlockSpec, node: string): number {
  return claimedAddresses(spec, node).length;
}

/**
 * Takes up to `count` free addresses (past their cooldown) for a node's claim from the candidate blocks of a
 * source, in the order an allocation would try them: one block write per block used, then one handle write.
 * @returns the new ledger entries (fewer than `count` when the source runs short; none when it is full)
 */
export async function takeForClaim(
  ctx: CallContext,
  node: string,
  source: AllocationSource,
  count: number,
  hints: StartHints,
): Promise<ClaimEntry[]> {
  const handleId = claimHandleId(node);
  const taken: ClaimEntry[] = [];
  const counts = new Map<string, number>();
  const notes = new ScanNotes();
  for await (const candidate of candidateBlocks(ctx.io, source, node, [], notes, hints)) {
    if (taken.length >= count) break;
    const need = count - taken.length;
    const name = candidate.block.object.metadata.name;
    const written = await changeBlock(ctx, name, handleId, (spec) => {
      const r = assignAddresses(spec, { handleId, count: need, now: ctx.now, cooldownMs: ctx.cooldownMs, secondary: claimSecondary(node, ctx.now) });
      return r.assigned.length === 0 ? undefined : { spec: r.block, result: r.assigned };
    });
    if (written === undefined) continue;
    const pool = candidate.pool.metadata.name;
    for (const a of written.result) {
      taken.push({
        address: a.address,
        addressWithPrefix: a.addressWithPrefix,
        block: name,
        pool,
        gateway: candidate.pool.spec.gateway,
        assignment: undefined,
        releasedAt: undefined,
        published: true,
      });
    }
    counts.set(blockKey(written.block.spec.id, written.block.spec.cidr), claimCount(written.block.spec, node));
    if (source.kind === 'pools') hints.set(pool, node, name);
  }
  await recountClaimHandle(ctx, node, counts);
  return taken;
}

/** An address a claim holds, where, and what the cluster was last told about it. */
export interface HeldClaimAddress extends ClaimedAddress {
  /** The block. */
  readonly block: string;
  /** The block's pool. */
  readonly pool: string;
  /** The pool's gateway. */
  readonly gateway: string | undefined;
}

/**
 * What a node's claim holds, from its handle's blocks.
 * @returns the addresses, and the block keys the handle names (for recounting)
 */
export async function readClaim(ctx: CallContext, node: string): Promise<HeldClaimAddress[]> {
  const handle = await ctx.io.getHandle(claimHandleId(node));
  const out: HeldClaimAddress[] = [];
  const gateways = new Map<string, string | undefined>();
  for (const key of Object.keys(handle?.object.spec.block ?? {}).sort()) {
    let name: string;
    try {
      name = blockNameFromKey(key);
    } catch {
      continue;
    }
    const block = await ctx.io.getBlock(name);
    if (block === undefined) continue;
    const pool = block.object.metadata.labels?.[LABEL_POOL_NAME] ?? '';
    if (!gateways.has(pool)) gateways.set(pool, (await ctx.io.getPool(pool))?.object.spec.gateway);
    for (const a of claimedAddresses(block.object.spec, node)) out.push({ ...a, block: name, pool, gateway: gateways.get(pool) });
  }
  return out;
}
