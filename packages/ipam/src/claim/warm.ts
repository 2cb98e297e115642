/**
 * How many free addresses a node's claim keeps ready (docs/ipam.md#node-claims): refilled up to `target` when
 * fewer than `minimum` are ready for a source its pods use, trimmed back to `target` when more than `maximum`
 * are free on the node (cooling ones first).
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors.ts';

/** The warm-address marks of a node's claim. */
export interface WarmIps {
  /** Refill when fewer addresses than this are ready for a source (0 = refill only when an ADD finds none). */
  readonly minimum: number;
  /** How many ready addresses a refill or a trim aims at; at least 1. */
  readonly target: number;
  /** Trim when more addresses than this are free on the node (ready or cooling). */
  readonly maximum: number;
}

/** Defaults: refill below 4, to 8; trim above 24. */
export const DEFAULT_WARM_IPS: WarmIps = Object.freeze({ minimum: 4, target: 8, maximum: 24 });

/** Upper bound of every mark: a block of /22 at most should be held by one node. */
export const MAX_WARM_IPS = 1024;

/**
 * Checks the marks.
 * @param warm - the marks
 * @param field - the name of the setting, for the error
 * @throws {@link InvalidArgumentError} naming the mark at fault and the bound it breaks
 */
export function validateWarmIps(warm: WarmIps, field = 'warmIps'): WarmIps {
  for (const key of ['minimum', 'target', 'maximum'] as const) {
    const v = warm[key];
    if (!Number.isInteger(v) || v < 0 || v > MAX_WARM_IPS) {
      throw new InvalidArgumentError(`${field}.${key}`, `must be an integer from 0 to ${MAX_WARM_IPS}, got ${String(v)}`);
    }
  }
  if (warm.target < 1) throw new InvalidArgumentError(`${field}.target`, `must be at least 1, got ${warm.target}`);
  if (warm.minimum > warm.target) {
    throw new InvalidArgumentError(`${field}.minimum`, `(${warm.minimum}) must not exceed ${field}.target (${warm.target})`);
  }
  if (warm.maximum < warm.target) {
    throw new InvalidArgumentError(`${field}.maximum`, `(${warm.maximum}) must be at least ${field}.target (${warm.target})`);
  }
  return warm;
}
