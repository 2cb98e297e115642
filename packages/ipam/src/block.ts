/**
 * Operations on one IPAMBlock spec, with the release cooldown.
 *
 * Every operation returns a new spec and leaves its input untouched (Go mutated objects shared
 * with its informer cache). Operations are defensive about corrupted blocks: an ordinal that is listed as free
 * but also allocated, duplicated or out of range is never handed out; {@link checkBlock} reports such damage.
 *
 * Cooldown: a release records `releasedAt[ordinal] = <RFC 3339 UTC time>`; until `cooldownMs` has passed
 * since then, assignment skips that ordinal (without reordering `unallocated`). Entries are dropped when their
 * ordinal is allocated again or their cooldown has passed. With `cooldownMs` 0 nothing is recorded, the field
 * is removed, and the behaviour is Go's plain FIFO.
 *
 * @packageDocumentation
 */
import { formatIPv4, ordinalFrom, parseCidr, parseIPv4, tryParseIPv4 } from './address.ts';
import type { BlockProblem } from './errors.ts';
import {
  AddressOutOfRangeError,
  FixedIpCoolingDownError,
  FixedIpReservedError,
  FixedIpTakenError,
  InvalidArgumentError,
  InvalidBlockError,
} from './errors.ts';
import { blockName, isDns1123Subdomain } from './naming.ts';
import { epochMs, formatGoTimestamp, parseTimestamp } from './time.ts';
import type { AllocationAttribute, IPAMBlockSpec } from './types.ts';
import { AttributeKey, RESERVED_HANDLE } from './types.ts';

/**
 * Default release cooldown: one minute, long enough for neighbours' ARP entries and conntrack state of the
 * previous owner to age out before the address serves another pod.
 */
export const DEFAULT_RELEASE_COOLDOWN_MS = 60_000;

/** Time inputs of the operations that honour the release cooldown. */
export interface CooldownOptions {
  /** The current time (the library never reads a clock). */
  readonly now: Date;
  /** How long a released address stays unavailable; default {@link DEFAULT_RELEASE_COOLDOWN_MS}; 0 = none. */
  readonly cooldownMs?: number;
}

/** One address of a block. */
export interface BlockAddress {
  /** Ordinal in the block. */
  readonly ordinal: number;
  /** Dotted-decimal address. */
  readonly address: string;
  /** The address with the block's prefix length, e.g. `172.16.3.2/27` (the form of the CNI result). */
  readonly addressWithPrefix: string;
}

interface Geometry {
  readonly base: number;
  readonly prefix: number;
  readonly size: number;
}

function geometryOf(spec: IPAMBlockSpec): Geometry {
  let cidr;
  try {
    cidr = parseCidr(spec.cidr, 'spec.cidr');
  } catch (error) {
    throw new InvalidBlockError(spec.cidr, [{ kind: 'BadCidr', message: (error as Error).message }]);
  }
  if (spec.allocations.length !== cidr.size) {
    throw new InvalidBlockError(spec.cidr, [
      {
        kind: 'AllocationsLength',
        message: `allocations has ${spec.allocations.length} entries, the block has ${cidr.size} addresses`,
      },
    ]);
  }
  return { base: cidr.address, prefix: cidr.prefix, size: cidr.size };
}

function displayName(spec: IPAMBlockSpec): string {
  try {
    return blockName(spec.id, spec.cidr);
  } catch {
    return spec.cidr;
  }
}

function addressAt(g: Geometry, ordinal: number): BlockAddress {
  const address = formatIPv4(g.base + ordinal);
  return { ordinal, address, addressWithPrefix: `${address}/${g.prefix}` };
}

function cooldownOf(options: CooldownOptions): { nowMs: number; cooldownMs: number } {
  const nowMs = epochMs(options.now, 'now');
  const cooldownMs = options.cooldownMs ?? DEFAULT_RELEASE_COOLDOWN_MS;
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
    throw new InvalidArgumentError('cooldownMs', `must be a finite number ≥ 0, got ${cooldownMs}`);
  }
  return { nowMs, cooldownMs };
}

function checkHandleId(handleId: string): void {
  if (!isDns1123Subdomain(handleId)) {
    throw new InvalidArgumentError(
      'handleId',
      `${JSON.stringify(handleId)} is not a valid handle ID: use a lower-case RFC 1123 name of at most 253 characters`,
    );
  }
  if (handleId === RESERVED_HANDLE) {
    throw new InvalidArgumentError('handleId', `${RESERVED_HANDLE} owns the reserved addresses and cannot be assigned`);
  }
}

/** Release time (epoch ms) of an ordinal, or undefined when none is recorded or the text is unreadable. */
function releasedAtMs(spec: IPAMBlockSpec, ordinal: number): number | undefined {
  const text = spec.releasedAt?.[String(ordinal)];
  if (text === undefined) return undefined;
  return parseTimestamp(text)?.getTime();
}

function coolingUntilMs(spec: IPAMBlockSpec, ordinal: number, nowMs: number, cooldownMs: number): number | undefined {
  if (cooldownMs <= 0) return undefined;
  const released = releasedAtMs(spec, ordinal);
  if (released === undefined) return undefined;
  const until = released + cooldownMs;
  return until > nowMs ? until : undefined;
}

/**
 * The cooldown entries to keep: those of free ordinals still cooling, plus `fresh` ordinals released now.
 * An unreadable time counts as expired so that a bad entry cannot hold an address forever.
 */
function nextReleasedAt(
  spec: IPAMBlockSpec,
  allocations: readonly (number | null)[],
  nowMs: number,
  cooldownMs: number,
  fresh: readonly number[],
): Record<string, string> | undefined {
  if (cooldownMs <= 0) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.releasedAt ?? {})) {
    const ordinal = Number(key);
    if (String(ordinal) !== key || allocations[ordinal] !== null) continue;
    if (coolingUntilMs(spec, ordinal, nowMs, cooldownMs) !== undefined) out[key] = value;
  }
  const stamp = new Date(nowMs).toISOString();
  for (const ordinal of fresh) out[String(ordinal)] = stamp;
  return Object.keys(out).length === 0 ? undefined : out;
}

function withReleasedAt(
  spec: IPAMBlockSpec,
  changes: Pick<IPAMBlockSpec, 'allocations' | 'unallocated' | 'attributes'>,
  releasedAt: Record<string, string> | undefined,
): IPAMBlockSpec {
  const { releasedAt: _previous, ...rest } = spec;
  return releasedAt === undefined ? { ...rest, ...changes } : { ...rest, ...changes, releasedAt };
}

/**
 * Whether an attribute row is the reserved row (handle compared case-insensitively, as Go does).
 * @param attribute - an attribute row
 */
export function isReservedAttribute(attribute: AllocationAttribute | undefined): boolean {
  return attribute?.handle_id?.toLowerCase() === RESERVED_HANDLE;
}

/**
 * Number of addresses in the block, from its CIDR.
 * @param spec - the block
 * @throws {@link InvalidBlockError} when the CIDR is malformed
 */
export function blockSizeOf(spec: Pick<IPAMBlockSpec, 'cidr'>): number {
  try {
    return parseCidr(spec.cidr, 'spec.cidr').size;
  } catch (error) {
    throw new InvalidBlockError(spec.cidr, [{ kind: 'BadCidr', message: (error as Error).message }]);
  }
}

/**
 * The ordinal of an address in the block, counted from the address as written in `spec.cidr`.
 * @param spec - the block
 * @param address - dotted-decimal address
 * @throws {@link AddressOutOfRangeError} when the address is not in the block
 * @throws {@link InvalidAddressError}, {@link InvalidBlockError}
 */
export function ordinalOfAddress(spec: IPAMBlockSpec, address: string): number {
  const g = geometryOf(spec);
  const ordinal = ordinalFrom(g.base, g.size, parseIPv4(address, 'address'));
  if (ordinal === undefined) throw new AddressOutOfRangeError(address, spec.cidr);
  return ordinal;
}

/**
 * The address of an ordinal.
 * @param spec - the block
 * @param ordinal - 0 … size − 1
 * @throws {@link InvalidArgumentError} when the ordinal is out of range; {@link InvalidBlockError}
 */
export function addressOfOrdinal(spec: IPAMBlockSpec, ordinal: number): BlockAddress {
  const g = geometryOf(spec);
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= g.size) {
    throw new InvalidArgumentError('ordinal', `${ordinal} is outside 0…${g.size - 1} of block ${spec.cidr}`);
  }
  return addressAt(g, ordinal);
}

/**
 * Whether the block contains an address (malformed input yields false).
 * @param spec - the block
 * @param address - dotted-decimal address
 */
export function blockContains(spec: Pick<IPAMBlockSpec, 'cidr'>, address: string): boolean {
  const value = tryParseIPv4(address);
  if (value === undefined) return false;
  try {
    const cidr = parseCidr(spec.cidr);
    return ordinalFrom(cidr.address, cidr.size, value) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Number of free ordinals: the length of `unallocated` (cooling ones included).
 * @param spec - the block
 */
export function freeCount(spec: IPAMBlockSpec): number {
  return spec.unallocated.length;
}

/**
 * Number of ordinals owned by the reserved row (rows out of range are skipped).
 * @param spec - the block
 */
export function reservedCount(spec: IPAMBlockSpec): number {
  let count = 0;
  for (const index of spec.allocations) {
    if (index !== null && isReservedAttribute(spec.attributes[index])) count++;
  }
  return count;
}

/**
 * Number of allocated (non-reserved) addresses, `size − free − reserved`.
 * @param spec - the block
 * @throws {@link InvalidBlockError} when the CIDR is malformed
 */
export function allocatedCount(spec: IPAMBlockSpec): number {
  return blockSizeOf(spec) - freeCount(spec) - reservedCount(spec);
}

/**
 * Whether the block holds nothing but reserved addresses (handle compared case-insensitively). An allocation
 * pointing at a missing row counts as in use, so a damaged block is never taken for empty.
 * @param spec - the block
 */
export function isBlockEmpty(spec: IPAMBlockSpec): boolean {
  return spec.allocations.every((index) => index === null || isReservedAttribute(spec.attributes[index]));
}

/**
 * The ordinals held by a handle, ascending (exact handle match).
 * @param spec - the block
 * @param handleId - the handle ID
 */
export function handleOrdinals(spec: IPAMBlockSpec, handleId: string): number[] {
  const out: number[] = [];
  spec.allocations.forEach((index, ordinal) => {
    if (index !== null && spec.attributes[index]?.handle_id === handleId) out.push(ordinal);
  });
  return out;
}

/**
 * The addresses held by a handle, ascending. Use it before allocating to make a repeated request with the
 * same handle return the same address.
 * @param spec - the block
 * @param handleId - the handle ID
 * @throws {@link InvalidBlockError} when the CIDR is malformed
 */
export function handleAddresses(spec: IPAMBlockSpec, handleId: string): BlockAddress[] {
  const g = geometryOf(spec);
  return handleOrdinals(spec, handleId).map((ordinal) => addressAt(g, ordinal));
}

/**
 * Whether a handle holds at least one address in the block.
 * @param spec - the block
 * @param handleId - the handle ID
 */
export function handleHasAddresses(spec: IPAMBlockSpec, handleId: string): boolean {
  return spec.allocations.some((index) => index !== null && spec.attributes[index]?.handle_id === handleId);
}

/**
 * When a free ordinal becomes available again, if it is cooling down now.
 * @param spec - the block
 * @param ordinal - the ordinal
 * @param options - current time and cooldown
 * @returns the end of the cooldown, or undefined when the ordinal is not cooling
 */
export function coolingUntil(spec: IPAMBlockSpec, ordinal: number, options: CooldownOptions): Date | undefined {
  const { nowMs, cooldownMs } = cooldownOf(options);
  if (spec.allocations[ordinal] !== null) return undefined;
  const until = coolingUntilMs(spec, ordinal, nowMs, cooldownMs);
  return until === undefined ? undefined : new Date(until);
}

/**
 * Number of addresses an assignment could take now: free, not cooling, and not damaged.
 * @param spec - the block
 * @param options - current time and cooldown
 */
export function availableCount(spec: IPAMBlockSpec, options: CooldownOptions): number {
  const { nowMs, cooldownMs } = cooldownOf(options);
  const size = spec.allocations.length;
  const seen = new Set<number>();
  let count = 0;
  for (const ordinal of spec.unallocated) {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= size || seen.has(ordinal)) continue;
    seen.add(ordinal);
    if (spec.allocations[ordinal] !== null) continue;
    if (coolingUntilMs(spec, ordinal, nowMs, cooldownMs) === undefined) count++;
  }
  return count;
}

/** What an address of a block is used for. */
export type AddressUse =
  | { readonly state: 'free'; readonly coolingUntil: Date | undefined }
  | { readonly state: 'reserved' }
  | { readonly state: 'allocated'; readonly handleId: string | undefined; readonly attribute: AllocationAttribute | undefined }
  | { readonly state: 'lost' };

/**
 * What an address of the block is used for: free (maybe cooling down), reserved, allocated (to which handle),
 * or lost (neither free nor allocated: a damaged block).
 * @param spec - the block
 * @param address - dotted-decimal address
 * @param options - current time and cooldown
 * @throws {@link AddressOutOfRangeError} when the address is not in the block
 */
export function addressUse(spec: IPAMBlockSpec, address: string, options: CooldownOptions): AddressUse {
  const ordinal = ordinalOfAddress(spec, address);
  const index = spec.allocations[ordinal] ?? null;
  if (index !== null) {
    const attribute = spec.attributes[index];
    if (isReservedAttribute(attribute)) return { state: 'reserved' };
    return { state: 'allocated', handleId: attribute?.handle_id, attribute };
  }
  if (!spec.unallocated.includes(ordinal)) return { state: 'lost' };
  return { state: 'free', coolingUntil: coolingUntil(spec, ordinal, options) };
}

function sameAttribute(row: AllocationAttribute, handleId: string, secondary: Readonly<Record<string, string>>): boolean {
  if (row.handle_id !== handleId) return false;
  const a = row.secondary ?? {};
  const keys = Object.keys(a);
  return keys.length === Object.keys(secondary).length && keys.every((k) => a[k] === secondary[k]);
}

function secondaryFor(
  base: Readonly<Record<string, string>> | undefined,
  nowMs: number,
  address: string,
): Readonly<Record<string, string>> {
  return {
    ...base,
    [AttributeKey.Timestamp]: base?.[AttributeKey.Timestamp] ?? formatGoTimestamp(new Date(nowMs)),
    [AttributeKey.Ip]: address,
  };
}

/** Point `ordinal` at a row equal to `{handle_id, secondary}`, appending the row when there is none. */
function pointAt(
  attributes: AllocationAttribute[],
  allocations: (number | null)[],
  ordinal: number,
  handleId: string,
  secondary: Readonly<Record<string, string>>,
): void {
  let index = attributes.findIndex((row) => sameAttribute(row, handleId, secondary));
  if (index < 0) {
    index = attributes.length;
    attributes.push({ handle_id: handleId, secondary });
  }
  allocations[ordinal] = index;
}

/** An assignment request. */
export interface AssignRequest extends CooldownOptions {
  /** The owner (e.g. `default-nginx-abc123`); must be a valid object name. */
  readonly handleId: string;
  /** How many addresses, default 1. */
  readonly count?: number;
  /**
   * Secondary attributes stored with each address, e.g. `{namespace, pod, node}`. `timestamp` defaults to `now`
   * in Go's text style; `ip` is always set to the address.
   */
  readonly secondary?: Readonly<Record<string, string>>;
}

/** The outcome of {@link assignAddresses}. */
export interface AssignResult {
  /** The new block spec (the input is unchanged). */
  readonly block: IPAMBlockSpec;
  /** The addresses assigned, at most `count`; fewer when the block runs short. */
  readonly assigned: readonly BlockAddress[];
  /** Free addresses skipped because they are cooling down. */
  readonly coolingDown: number;
  /** The earliest end of those cooldowns, when any. */
  readonly nextAvailableAt: Date | undefined;
}

/**
 * Assigns up to `count` addresses to a handle: takes, in `unallocated` order, the first ordinals
 * whose cooldown has passed, leaving the others in place and in order; points each at an attribute row
 * `{handle_id, secondary: {..., timestamp, ip}}` (reusing an identical row, appending otherwise). Returns fewer
 * addresses when the block runs short; the caller decides whether that is an error.
 * @param spec - the block
 * @param request - handle, count, attributes, time and cooldown
 * @throws {@link InvalidArgumentError} for a bad handle, count, time or cooldown
 * @throws {@link InvalidBlockError} when the block's CIDR or allocations length is wrong
 */
export function assignAddresses(spec: IPAMBlockSpec, request: AssignRequest): AssignResult {
  checkHandleId(request.handleId);
  const count = request.count ?? 1;
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('count', `must be an integer ≥ 0, got ${count}`);
  const { nowMs, cooldownMs } = cooldownOf(request);
  const g = geometryOf(spec);

  const taken: number[] = [];
  const takenSet = new Set<number>();
  const remaining: number[] = [];
  let coolingDown = 0;
  let nextMs: number | undefined;
  for (const ordinal of spec.unallocated) {
    const usable =
      Number.isInteger(ordinal) && ordinal >= 0 && ordinal < g.size && spec.allocations[ordinal] === null && !takenSet.has(ordinal);
    if (usable) {
      const until = coolingUntilMs(spec, ordinal, nowMs, cooldownMs);
      if (until !== undefined) {
        coolingDown++;
        nextMs = nextMs === undefined ? until : Math.min(nextMs, until);
      } else if (taken.length < count) {
        taken.push(ordinal);
        takenSet.add(ordinal);
        continue;
      }
    }
    remaining.push(ordinal);
  }

  const allocations = [...spec.allocations];
  const attributes = [...spec.attributes];
  const assigned = taken.map((ordinal) => {
    const address = addressAt(g, ordinal);
    pointAt(attributes, allocations, ordinal, request.handleId, secondaryFor(request.secondary, nowMs, address.address));
    return address;
  });
  const block = withReleasedAt(
    spec,
    { allocations, unallocated: remaining, attributes },
    nextReleasedAt(spec, allocations, nowMs, cooldownMs, []),
  );
  return { block, assigned, coolingDown, nextAvailableAt: nextMs === undefined ? undefined : new Date(nextMs) };
}

/** A fixed-address request. */
export interface FixedAssignRequest extends CooldownOptions {
  /** The owner; must be a valid object name. */
  readonly handleId: string;
  /** The requested address, dotted decimal. */
  readonly address: string;
  /** Secondary attributes, as for {@link AssignRequest.secondary}. */
  readonly secondary?: Readonly<Record<string, string>>;
  /** Allow taking an address that is still cooling down (default false: refuse with an error). */
  readonly allowCoolingDown?: boolean;
}

/** The outcome of {@link assignFixedAddress}. */
export interface FixedAssignResult {
  /** The new block spec; the input itself when `alreadyOwned`. */
  readonly block: IPAMBlockSpec;
  /** The address. */
  readonly assigned: BlockAddress;
  /** True when the handle already held the address: nothing changed (a repeated request). */
  readonly alreadyOwned: boolean;
}

/**
 * Assigns one specific address to a handle (fixed IP). The ordinal is removed from `unallocated` with the order
 * of the rest kept. An address the handle already holds is returned unchanged (`alreadyOwned`), so repeated
 * requests are idempotent.
 * @param spec - the block
 * @param request - handle, address, attributes, time and cooldown
 * @throws {@link AddressOutOfRangeError} when the address is not in the block
 * @throws {@link FixedIpReservedError} when the address is reserved
 * @throws {@link FixedIpTakenError} when another handle holds it
 * @throws {@link FixedIpCoolingDownError} when it is cooling down and `allowCoolingDown` is not set
 * @throws {@link InvalidBlockError} when the address is neither free nor allocated (damaged block)
 * @throws {@link InvalidArgumentError}, {@link InvalidAddressError} for bad input
 */
export function assignFixedAddress(spec: IPAMBlockSpec, request: FixedAssignRequest): FixedAssignResult {
  checkHandleId(request.handleId);
  const { nowMs, cooldownMs } = cooldownOf(request);
  const g = geometryOf(spec);
  const ordinal = ordinalFrom(g.base, g.size, parseIPv4(request.address, 'address'));
  if (ordinal === undefined) throw new AddressOutOfRangeError(request.address, spec.cidr);
  const address = addressAt(g, ordinal);

  const index = spec.allocations[ordinal] ?? null;
  if (index !== null) {
    const owner = spec.attributes[index];
    if (owner?.handle_id === request.handleId) return { block: spec, assigned: address, alreadyOwned: true };
    if (isReservedAttribute(owner)) throw new FixedIpReservedError(address.address, displayName(spec));
    throw new FixedIpTakenError(address.address, displayName(spec), owner?.handle_id);
  }
  const position = spec.unallocated.indexOf(ordinal);
  if (position < 0) {
    throw new InvalidBlockError(spec.cidr, [
      { kind: 'LostOrdinal', ordinal, message: `ordinal ${ordinal} is neither free nor allocated` },
    ]);
  }
  const until = coolingUntilMs(spec, ordinal, nowMs, cooldownMs);
  if (until !== undefined && request.allowCoolingDown !== true) {
    throw new FixedIpCoolingDownError(address.address, new Date(until));
  }

  const allocations = [...spec.allocations];
  const attributes = [...spec.attributes];
  pointAt(attributes, allocations, ordinal, request.handleId, secondaryFor(request.secondary, nowMs, address.address));
  const unallocated = spec.unallocated.filter((_, i) => i !== position);
  const block = withReleasedAt(
    spec,
    { allocations, unallocated, attributes },
    nextReleasedAt(spec, allocations, nowMs, cooldownMs, []),
  );
  return { block, assigned: address, alreadyOwned: false };
}

/** The outcome of a release. */
export interface ReleaseResult {
  /** The new block spec; the input itself when nothing changed. */
  readonly block: IPAMBlockSpec;
  /** The addresses released, ascending by ordinal. */
  readonly released: readonly BlockAddress[];
  /** Whether `block` differs from the input (rows can be dropped even when no address is released). */
  readonly changed: boolean;
}

function release(
  spec: IPAMBlockSpec,
  ordinals: readonly number[],
  rowsToDelete: ReadonlySet<number>,
  nowMs: number,
  cooldownMs: number,
): IPAMBlockSpec {
  const newIndex: number[] = [];
  const attributes: AllocationAttribute[] = [];
  spec.attributes.forEach((row, i) => {
    newIndex.push(rowsToDelete.has(i) ? -1 : attributes.length);
    if (!rowsToDelete.has(i)) attributes.push(row);
  });
  const released = new Set(ordinals);
  const allocations = spec.allocations.map((index, ordinal) => {
    if (index === null || released.has(ordinal)) return null;
    // Indexes past the end (damage) are left as they are for the checker to report.
    const moved = newIndex[index];
    return moved === undefined || moved < 0 ? index : moved;
  });
  const unallocated = [...spec.unallocated, ...ordinals];
  return withReleasedAt(spec, { allocations, unallocated, attributes }, nextReleasedAt(spec, allocations, nowMs, cooldownMs, ordinals));
}

/**
 * Releases every address of a handle: deletes the handle's rows (exact match), compacts
 * `attributes` and re-points the other allocations, and appends the released ordinals (ascending) to the end
 * of `unallocated`, so they are reused only after every address that was already free (FIFO). The release time
 * is recorded for the cooldown. An unknown handle changes nothing.
 * @param spec - the block
 * @param handleId - the handle ID
 * @param options - current time and cooldown
 * @throws {@link InvalidBlockError} when the block's CIDR or allocations length is wrong
 */
export function releaseByHandle(spec: IPAMBlockSpec, handleId: string, options: CooldownOptions): ReleaseResult {
  const { nowMs, cooldownMs } = cooldownOf(options);
  const g = geometryOf(spec);
  const rows = new Set<number>();
  spec.attributes.forEach((row, i) => {
    if (row.handle_id === handleId) rows.add(i);
  });
  if (rows.size === 0) return { block: spec, released: [], changed: false };
  const ordinals: number[] = [];
  spec.allocations.forEach((index, ordinal) => {
    if (index !== null && rows.has(index)) ordinals.push(ordinal);
  });
  const block = release(spec, ordinals, rows, nowMs, cooldownMs);
  return { block, released: ordinals.map((o) => addressAt(g, o)), changed: true };
}

/**
 * Releases specific ordinals whatever their owner (repairs, leaked addresses). Ordinals that are free, reserved,
 * out of range or point at a missing row are skipped. Rows left without any ordinal are deleted; other rows are
 * kept. Released ordinals go to the end of `unallocated` (ascending) and start their cooldown.
 * @param spec - the block
 * @param ordinals - ordinals to release
 * @param options - current time and cooldown
 * @throws {@link InvalidBlockError} when the block's CIDR or allocations length is wrong
 */
export function releaseOrdinals(spec: IPAMBlockSpec, ordinals: Iterable<number>, options: CooldownOptions): ReleaseResult {
  const { nowMs, cooldownMs } = cooldownOf(options);
  const g = geometryOf(spec);
  const wanted = new Set<number>();
  for (const ordinal of ordinals) {
    const index = Number.isInteger(ordinal) ? spec.allocations[ordinal] : undefined;
    if (index === undefined || index === null) continue;
    const row = spec.attributes[index];
    if (row === undefined || isReservedAttribute(row)) continue;
    wanted.add(ordinal);
  }
  if (wanted.size === 0) return { block: spec, released: [], changed: false };
  const sorted = [...wanted].sort((a, b) => a - b);
  const stillUsed = new Set<number>();
  spec.allocations.forEach((index, ordinal) => {
    if (index !== null && !wanted.has(ordinal)) stillUsed.add(index);
  });
  const rows = new Set<number>();
  for (const ordinal of sorted) {
    const index = spec.allocations[ordinal];
    if (index !== undefined && index !== null && !stillUsed.has(index)) rows.add(index);
  }
  const block = release(spec, sorted, rows, nowMs, cooldownMs);
  return { block, released: sorted.map((o) => addressAt(g, o)), changed: true };
}

/**
 * Checks the block invariant: every ordinal is exactly once either in `unallocated` or allocated;
 * every allocation points at an existing attribute row; `releasedAt` keys are ordinals and its values times.
 * @param spec - the block
 * @returns the problems found; empty when the block is sound
 */
export function checkBlock(spec: IPAMBlockSpec): BlockProblem[] {
  let size: number;
  try {
    size = parseCidr(spec.cidr, 'spec.cidr').size;
  } catch (error) {
    return [{ kind: 'BadCidr', message: (error as Error).message }];
  }
  if (spec.allocations.length !== size) {
    return [
      {
        kind: 'AllocationsLength',
        message: `allocations has ${spec.allocations.length} entries, the block has ${size} addresses`,
      },
    ];
  }
  const problems: BlockProblem[] = [];
  const free = new Set<number>();
  for (const ordinal of spec.unallocated) {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= size) {
      problems.push({ kind: 'BadFreeOrdinal', message: `unallocated lists ${ordinal}, outside 0…${size - 1}` });
    } else if (free.has(ordinal)) {
      problems.push({ kind: 'DuplicateFreeOrdinal', ordinal, message: `ordinal ${ordinal} is listed twice in unallocated` });
    } else {
      free.add(ordinal);
      if (spec.allocations[ordinal] !== null) {
        problems.push({ kind: 'FreeButAllocated', ordinal, message: `ordinal ${ordinal} is both free and allocated` });
      }
    }
  }
  spec.allocations.forEach((index, ordinal) => {
    if (index === null) {
      if (!free.has(ordinal)) {
        problems.push({ kind: 'LostOrdinal', ordinal, message: `ordinal ${ordinal} is neither free nor allocated` });
      }
    } else if (!Number.isInteger(index) || index < 0 || index >= spec.attributes.length) {
      problems.push({
        kind: 'BadAttributeIndex',
        ordinal,
        message: `ordinal ${ordinal} points at attribute ${index}, but there are ${spec.attributes.length}`,
      });
    }
  });
  for (const [key, value] of Object.entries(spec.releasedAt ?? {})) {
    const ordinal = Number(key);
    if (!/^(0|[1-9][0-9]*)$/.test(key) || ordinal >= size) {
      problems.push({ kind: 'BadReleasedAt', message: `releasedAt key ${JSON.stringify(key)} is not an ordinal of the block` });
    } else if (parseTimestamp(value) === undefined) {
      problems.push({ kind: 'BadReleasedAt', ordinal, message: `releasedAt[${key}] ${JSON.stringify(value)} is not an RFC 3339 time` });
    }
  }
  return problems;
}
