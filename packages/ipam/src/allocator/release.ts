/**
 * Releasing a handle (a release always unlinks every block it names, and skips blocks that are gone): for each block the handle
 * names, re-read it, release the handle's addresses (they start their cooldown) and write it back with
 * compare-and-swap, retrying lost writes; then delete the handle with its version as precondition. A handle
 * changed meanwhile (the delete loses) is read again and the pass repeated, so nothing it gained is left
 * behind. The Go version's "mark deleted, then delete" two writes become this one delete.
 *
 * One-block pod: two writes (the block, the handle). Unknown handle: no write, success.
 *
 * @packageDocumentation
 */
import type { BlockAddress } from '../block.ts';
import { releaseByHandle } from '../block.ts';
import { MaxRetriesError } from '../errors.ts';
import { blockNameFromKey } from '../naming.ts';
import { LABEL_POOL_NAME } from '../types.ts';
import type { CallContext } from './context.ts';
import { isConflict, isNotFound } from './context.ts';
import type { HeldAddress } from './types.ts';

function held(addresses: readonly BlockAddress[], block: string, pool: string | undefined): HeldAddress[] {
  return addresses.map((a) => ({ address: a.address, addressWithPrefix: a.addressWithPrefix, block, pool }));
}

/** Releases the handle's addresses in one block; retries lost writes. */
async function releaseInBlock(ctx: CallContext, handleId: string, name: string): Promise<HeldAddress[]> {
  for (let attempt = 1; ; attempt++) {
    const block = await ctx.io.getBlock(name);
    if (block === undefined) return [];
    const result = releaseByHandle(block.object.spec, handleId, { now: ctx.now, cooldownMs: ctx.cooldownMs });
    if (!result.changed) return [];
    try {
      await ctx.io.updateBlock({ ...block.object, spec: result.block }, block.version);
      return held(result.released, name, block.object.metadata.labels?.[LABEL_POOL_NAME]);
    } catch (error) {
      if (isNotFound(error)) return [];
      if (!isConflict(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, handleId, `IPAMBlock ${name}`);
      await ctx.pacer.pause(attempt);
    }
  }
}

function blockNames(keys: readonly string[]): string[] {
  const names = new Set<string>();
  for (const key of [...keys].sort()) {
    try {
      names.add(blockNameFromKey(key));
    } catch {
      // A key that names no block holds nothing to release; the handle's deletion drops it.
    }
  }
  return [...names];
}

/**
 * Releases every address of a handle and deletes the handle.
 * @param ctx - the call
 * @param handleId - the handle
 * @returns the addresses released (empty for an unknown handle)
 */
export async function releaseHandle(ctx: CallContext, handleId: string): Promise<HeldAddress[]> {
  const released: HeldAddress[] = [];
  let handle = await ctx.io.getHandle(handleId);
  for (let attempt = 1; handle !== undefined; attempt++) {
    for (const name of blockNames(Object.keys(handle.object.spec.block))) {
      released.push(...(await releaseInBlock(ctx, handleId, name)));
    }
    try {
      await ctx.io.deleteHandle(handleId, handle.version);
      break;
    } catch (error) {
      if (isNotFound(error)) break;
      if (!isConflict(error)) throw error;
      if (attempt >= ctx.maxAttempts) throw new MaxRetriesError(attempt, handleId, `IPAMHandle ${handleId}`);
      await ctx.pacer.pause(attempt);
      handle = await ctx.io.getHandle(handleId);
    }
  }
  return released;
}
