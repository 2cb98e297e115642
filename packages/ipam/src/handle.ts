/**
 * IPAMHandle arithmetic. Every function returns a new spec.
 *
 * @packageDocumentation
 */
import { HandleNotLinkedError, HandleUnderflowError, InvalidArgumentError } from './errors.ts';
import type { IPAMHandle, IPAMHandleSpec } from './types.ts';

function checkAmount(amount: number): void {
  if (!Number.isInteger(amount) || amount < 0) {
    throw new InvalidArgumentError('amount', `must be an integer ≥ 0, got ${amount}`);
  }
}

/**
 * A new, empty handle object `{handleID, block: {}, deleted: false}` named after the handle.
 * @param handleId - the handle ID
 */
export function newHandle(handleId: string): IPAMHandle {
  return { metadata: { name: handleId }, spec: { handleID: handleId, block: {}, deleted: false } };
}

/**
 * How many addresses the handle holds in a block (0 when the key is absent).
 * @param spec - the handle
 * @param blockKey - the block string key (`4100-172.16.3.0/27`)
 */
export function handleCount(spec: IPAMHandleSpec, blockKey: string): number {
  return Object.hasOwn(spec.block, blockKey) ? (spec.block[blockKey] ?? 0) : 0;
}

/**
 * Adds `amount` to the handle's count for a block (creating the key).
 * @param spec - the handle
 * @param blockKey - the block string key
 * @param amount - an integer ≥ 0
 * @throws {@link InvalidArgumentError} for a bad amount
 */
export function incrementHandle(spec: IPAMHandleSpec, blockKey: string, amount: number): IPAMHandleSpec {
  checkAmount(amount);
  return { ...spec, block: { ...spec.block, [blockKey]: handleCount(spec, blockKey) + amount } };
}

/**
 * Subtracts `amount` from the handle's count for a block; a result of 0 removes the key.
 * @param spec - the handle
 * @param blockKey - the block string key
 * @param amount - an integer ≥ 0
 * @throws {@link HandleNotLinkedError} when the handle holds nothing in the block
 * @throws {@link HandleUnderflowError} when the handle holds fewer than `amount`
 * @throws {@link InvalidArgumentError} for a bad amount
 */
export function decrementHandle(spec: IPAMHandleSpec, blockKey: string, amount: number): IPAMHandleSpec {
  checkAmount(amount);
  if (!Object.hasOwn(spec.block, blockKey)) throw new HandleNotLinkedError(spec.handleID, blockKey, amount);
  const current = handleCount(spec, blockKey);
  const next = current - amount;
  if (next < 0) throw new HandleUnderflowError(spec.handleID, blockKey, amount, current);
  if (next === 0) return removeBlockFromHandle(spec, blockKey);
  return { ...spec, block: { ...spec.block, [blockKey]: next } };
}

/**
 * Removes a block key whatever its count (a release always unlinks the block, so stale counts
 * cannot survive).
 * @param spec - the handle
 * @param blockKey - the block string key
 */
export function removeBlockFromHandle(spec: IPAMHandleSpec, blockKey: string): IPAMHandleSpec {
  if (!Object.hasOwn(spec.block, blockKey)) return spec;
  const block: Record<string, number> = {};
  for (const [key, value] of Object.entries(spec.block)) if (key !== blockKey) block[key] = value;
  return { ...spec, block };
}

/**
 * Whether the handle holds nothing (no block keys); such a handle is deleted.
 * @param spec - the handle
 */
export function isHandleEmpty(spec: IPAMHandleSpec): boolean {
  return Object.keys(spec.block).length === 0;
}
