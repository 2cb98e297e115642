/**
 * What one allocator call carries through its helpers.
 *
 * @packageDocumentation
 */
import { IpamErrorCode } from '../errors.ts';
import type { StoreIo } from './io.ts';
import type { Pacer } from './retry.ts';

/** One call's settings and store access. */
export interface CallContext {
  /** Store access, reporting to the observers. */
  readonly io: StoreIo;
  /** The current time of the call. */
  readonly now: Date;
  /** Release cooldown. */
  readonly cooldownMs: number;
  /** Lost compare-and-swap writes accepted before giving up (see `IpamOptions.maxAttempts`). */
  readonly maxAttempts: number;
  /** Waits between attempts. */
  readonly pacer: Pacer;
}

/**
 * Whether an error is a lost compare-and-swap.
 * @param error - anything thrown
 */
export function isConflict(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === IpamErrorCode.Conflict;
}

/**
 * Whether an error says the object is missing.
 * @param error - anything thrown
 */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === IpamErrorCode.NotFound;
}

/**
 * Whether an error says the object exists already.
 * @param error - anything thrown
 */
export function isAlreadyExists(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === IpamErrorCode.AlreadyExists;
}
