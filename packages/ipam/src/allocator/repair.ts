/**
 * Applying a repair plan of the consistency check. The plan was computed from a
 * snapshot; objects may have changed since, so every action re-reads what it touches and compares before
 * writing: a release only frees ordinals the named handle still holds; a handle is created, corrected or
 * deleted only when the blocks, read again now, hold exactly what the plan expects. Anything else is skipped
 * and left for the next check.
 *
 * @packageDocumentation
 */
import { assignFixedAddress, handleOrdinals, releaseOrdinals } from '../block.ts';
import type { HandleAction, RecordAction, ReleaseAction, RepairPlan } from '../consistency.ts';
import { MaxRetriesError } from '../errors.ts';
import { incrementHandle, newHandle } from '../handle.ts';
import { blockKey, blockNameFromKey } from '../naming.ts';
import { AttributeKey } from '../types.ts';
import type { CallContext } from './context.ts';
import { isAlreadyExists, isConflict, isNotFound } from './context.ts';
import type { RepairResult } from './types.ts';

type Released = RepairResult['released'][number];
type Skipped = RepairResult['skipped'][number];

async function applyRelease(ctx: CallContext, action: ReleaseAction): Promise<Released | Skipped> {
  const skip = (reason: string): Skipped => ({ action: 'release', target: `${action.blockName}/${action.handleId}`, reason });
  for (let attempt = 1; ; attempt++) {
    const block = await ctx.io.getBlock(action.blockName);
    if (block === undefined) return skip('the block is gone');
    const { spec } = block.object;
    const still = action.ordinals.filter((o) => {
      const index = spec.allocations[o];
      return index !== undefined && index !== null && spec.attributes[index]?.handle_id === action.handleId;
    });
    if (still.length === 0) return skip('the handle no longer holds these addresses');
    const result = releaseOrdinals(spec, still, { now: ctx.now, cooldownMs: ctx.cooldownMs });
    try {
      await ctx.io.updateBlock({ ...block.object, spec: result.block }, block.version);
      return { block: action.blockName, handleId: action.handleId, addresses: result.released.map((a) => a.address) };
    } catch (error) {
      if (isNotFound(error)) return skip('the block is gone');
      if (!isConflict(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, action.handleId, `IPAMBlock ${action.blockName}`);
      await ctx.pacer.pause(attempt);
    }
  }
}

/**
 * Records an address a live pod uses but its block forgot: the block first (only while the address is still
 * free there), then the handle's count, as an allocation writes them.
 */
async function applyRecord(ctx: CallContext, action: RecordAction): Promise<string | Skipped> {
  const skip = (reason: string): Skipped => ({ action: 'record address', target: `${action.blockName}/${action.address}`, reason });
  let key: string | undefined;
  for (let attempt = 1; key === undefined; attempt++) {
    const block = await ctx.io.getBlock(action.blockName);
    if (block === undefined) return skip('the block is gone');
    let assigned;
    try {
      assigned = assignFixedAddress(block.object.spec, {
        handleId: action.handleId,
        address: action.address,
        now: ctx.now,
        cooldownMs: ctx.cooldownMs,
        // The pod has the address whatever the cooldown says; recording it is what keeps it from a second pod.
        allowCoolingDown: true,
        secondary: {
          [AttributeKey.Namespace]: action.namespace,
          [AttributeKey.Pod]: action.pod,
          ...(action.node ? { [AttributeKey.Node]: action.node } : {}),
          [AttributeKey.Timestamp]: ctx.now.toISOString(),
        },
      });
    } catch (error) {
      return skip(`the block changed since the check: ${(error as Error).message}`);
    }
    if (assigned.alreadyOwned) return skip('the address is recorded for the pod now');
    try {
      await ctx.io.updateBlock({ ...block.object, spec: assigned.block }, block.version);
      key = blockKey(block.object.spec.id, block.object.spec.cidr);
    } catch (error) {
      if (isNotFound(error)) return skip('the block is gone');
      if (!isConflict(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, action.handleId, `IPAMBlock ${action.blockName}`);
      await ctx.pacer.pause(attempt);
    }
  }
  for (let attempt = 1; ; attempt++) {
    const handle = await ctx.io.getHandle(action.handleId);
    try {
      if (handle === undefined) {
        const fresh = newHandle(action.handleId);
        await ctx.io.createHandle({ ...fresh, spec: incrementHandle(fresh.spec, key, 1) });
      } else {
        await ctx.io.updateHandle({ ...handle.object, spec: incrementHandle(handle.object.spec, key, 1) }, handle.version);
      }
      return action.address;
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error)) throw error;
      // A miscount left by giving up is corrected by the next check; the block holds the truth.
      if (attempt >= ctx.maxAttempts) return skip('the handle kept changing; the next check corrects its count');
      await ctx.pacer.pause(attempt);
    }
  }
}

/** What the blocks hold for a handle now, by block key, over the blocks named by `keys`. */
async function heldNow(ctx: CallContext, handleId: string, keys: Iterable<string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const names = new Set<string>();
  for (const key of keys) {
    try {
      names.add(blockNameFromKey(key));
    } catch {
      // A malformed key names no block.
    }
  }
  for (const name of [...names].sort()) {
    const block = await ctx.io.getBlock(name);
    if (block === undefined) continue;
    const count = handleOrdinals(block.object.spec, handleId).length;
    if (count > 0) out[blockKey(block.object.spec.id, block.object.spec.cidr)] = count;
  }
  return out;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

type HandleOutcome = { readonly done: 'created' | 'updated' | 'deleted' } | { readonly skipped: Skipped };

async function applyHandle(ctx: CallContext, action: HandleAction, kind: 'create' | 'update' | 'delete'): Promise<HandleOutcome> {
  const skip = (reason: string): HandleOutcome => ({ skipped: { action: `${kind} handle`, target: action.handleId, reason } });
  const handle = await ctx.io.getHandle(action.handleId);
  if (kind === 'create' ? handle !== undefined : handle === undefined) {
    return skip(kind === 'create' ? 'the handle exists now' : 'the handle is gone');
  }
  const keys = new Set([...Object.keys(action.block), ...Object.keys(handle?.object.spec.block ?? {})]);
  if (!sameCounts(await heldNow(ctx, action.handleId, keys), action.block)) return skip('the blocks changed since the check');
  try {
    if (handle === undefined) {
      const fresh = newHandle(action.handleId);
      await ctx.io.createHandle({ ...fresh, spec: { ...fresh.spec, block: { ...action.block } } });
      return { done: 'created' };
    }
    if (Object.keys(action.block).length === 0) {
      await ctx.io.deleteHandle(action.handleId, handle.version);
      return { done: 'deleted' };
    }
    await ctx.io.updateHandle({ ...handle.object, spec: { ...handle.object.spec, block: { ...action.block } } }, handle.version);
    return { done: 'updated' };
  } catch (error) {
    if (isConflict(error) || isAlreadyExists(error) || isNotFound(error)) return skip('the handle changed since the check');
    throw error;
  }
}

/**
 * Applies a repair plan: releases first (the handle counts of the plan assume them), then the addresses live
 * pods use that their blocks forgot, then handle creations, corrections and deletions.
 * @param ctx - the call
 * @param plan - from `checkConsistency` (ideally `stableRepairPlan` of two checks)
 */
export async function applyRepairPlan(ctx: CallContext, plan: RepairPlan): Promise<RepairResult> {
  const released: Released[] = [];
  const skipped: Skipped[] = [];
  const created: string[] = [];
  const updated: string[] = [];
  const deleted: string[] = [];
  const recorded: string[] = [];
  for (const action of plan.release) {
    const outcome = await applyRelease(ctx, action);
    if ('reason' in outcome) skipped.push(outcome);
    else released.push(outcome);
  }
  for (const action of plan.recordAddresses ?? []) {
    const outcome = await applyRecord(ctx, action);
    if (typeof outcome === 'string') recorded.push(outcome);
    else skipped.push(outcome);
  }
  const handleActions: [HandleAction, 'create' | 'update' | 'delete'][] = [
    ...plan.createHandles.map((a): [HandleAction, 'create'] => [a, 'create']),
    ...plan.updateHandles.map((a): [HandleAction, 'update'] => [a, 'update']),
    ...plan.deleteHandles.map((handleId): [HandleAction, 'delete'] => [{ handleId, block: {} }, 'delete']),
  ];
  for (const [action, kind] of handleActions) {
    const outcome = await applyHandle(ctx, action, kind);
    if ('skipped' in outcome) skipped.push(outcome.skipped);
    else if (outcome.done === 'created') created.push(action.handleId);
    else if (outcome.done === 'updated') updated.push(action.handleId);
    else deleted.push(action.handleId);
  }
  return { released, recordedAddresses: recorded, createdHandles: created, updatedHandles: updated, deletedHandles: deleted, skipped };
}
