/**
 * The handle side of an allocation (handle first, then block): counting the address in the handle before the
 * block is written, moving the count when the allocation switches blocks, and taking it back when the
 * allocation fails.
 *
 * Writing the handle first means a crash between the two writes leaves a handle that counts an address no
 * block holds — visible, harmless and repaired by the consistency check — rather than an address no handle
 * owns, which nobody would ever release.
 *
 * @packageDocumentation
 */
import { MaxRetriesError } from '../errors.ts';
import { decrementHandle, incrementHandle, isHandleEmpty, newHandle } from '../handle.ts';
import type { Versioned } from '../store.ts';
import type { IPAMHandle, IPAMHandleSpec } from '../types.ts';
import type { CallContext } from './context.ts';
import { isAlreadyExists, isConflict, isNotFound } from './context.ts';

function withoutOne(spec: IPAMHandleSpec, key: string): IPAMHandleSpec {
  return Object.hasOwn(spec.block, key) ? decrementHandle(spec, key, 1) : spec;
}

/** The handle with stale counts replaced by what the blocks hold (0 removes the key). */
function corrected(spec: IPAMHandleSpec, corrections: Readonly<Record<string, number>>): IPAMHandleSpec {
  if (Object.keys(corrections).length === 0) return spec;
  const block: Record<string, number> = {};
  for (const [key, count] of Object.entries(spec.block)) {
    const fixed = Object.hasOwn(corrections, key) ? corrections[key] : count;
    if (fixed !== undefined && fixed > 0) block[key] = fixed;
  }
  return { ...spec, block };
}

/** One allocation's count in its handle. */
export class HandleClaim {
  readonly #ctx: CallContext;
  readonly #handleId: string;
  #corrections: Readonly<Record<string, number>>;
  #current: Versioned<IPAMHandle> | undefined;
  #held: string | undefined;

  /**
   * @param ctx - the call
   * @param handleId - the handle
   * @param current - the handle as last read (undefined = absent)
   * @param corrections - block key → the count the block really holds, written along with the first count
   */
  constructor(
    ctx: CallContext,
    handleId: string,
    current: Versioned<IPAMHandle> | undefined,
    corrections: Readonly<Record<string, number>> = {},
  ) {
    this.#ctx = ctx;
    this.#handleId = handleId;
    this.#current = current;
    this.#corrections = corrections;
  }

  /**
   * Makes the handle count one address in `blockKey` for this allocation: creates the handle, or increments
   * the key, moving a count made earlier by this claim from its old key in the same write.
   * @param blockKey - the block string key
   * @throws {@link MaxRetriesError} when the handle keeps changing underneath
   */
  async countIn(blockKey: string): Promise<void> {
    if (this.#held === blockKey) return;
    const { io, maxAttempts, pacer } = this.#ctx;
    for (let attempt = 1; ; attempt++) {
      const base = this.#current;
      let spec = base === undefined ? newHandle(this.#handleId).spec : corrected(base.object.spec, this.#corrections);
      if (this.#held !== undefined) spec = withoutOne(spec, this.#held);
      spec = incrementHandle(spec, blockKey, 1);
      try {
        this.#current =
          base === undefined
            ? await io.createHandle({ ...newHandle(this.#handleId), spec })
            : await io.updateHandle({ ...base.object, spec }, base.version);
        this.#held = blockKey;
        // Written once; later writes start from the corrected handle.
        this.#corrections = {};
        return;
      } catch (error) {
        if (!isConflict(error) && !isAlreadyExists(error) && !isNotFound(error)) throw error;
        if (attempt >= maxAttempts) throw new MaxRetriesError(attempt, this.#handleId, `IPAMHandle ${this.#handleId}`);
        await pacer.pause(attempt);
        this.#current = await io.getHandle(this.#handleId);
        // Someone removed or replaced the handle: the count this claim made is gone with it.
        if (this.#held !== undefined && !Object.hasOwn(this.#current?.object.spec.block ?? {}, this.#held)) this.#held = undefined;
      }
    }
  }

  /** The allocation succeeded: the count stays. */
  keep(): void {
    this.#held = undefined;
  }

  /**
   * Takes back the count this claim made, deleting the handle when nothing is left in it. Best effort: a
   * handle left over-counted is what the consistency check repairs.
   * @throws {@link MaxRetriesError} or the store's error when the handle could not be written
   */
  async undo(): Promise<void> {
    const key = this.#held;
    if (key === undefined) return;
    const { io, maxAttempts, pacer } = this.#ctx;
    for (let attempt = 1; ; attempt++) {
      const current = this.#current;
      if (current === undefined || !Object.hasOwn(current.object.spec.block, key)) break;
      const spec = withoutOne(current.object.spec, key);
      try {
        if (isHandleEmpty(spec)) {
          await io.deleteHandle(this.#handleId, current.version);
          this.#current = undefined;
        } else {
          this.#current = await io.updateHandle({ ...current.object, spec }, current.version);
        }
        break;
      } catch (error) {
        if (isNotFound(error)) break;
        if (!isConflict(error)) throw error;
        if (attempt >= maxAttempts) throw new MaxRetriesError(attempt, this.#handleId, `IPAMHandle ${this.#handleId}`);
        await pacer.pause(attempt);
        this.#current = await io.getHandle(this.#handleId);
      }
    }
    this.#held = undefined;
  }
}
