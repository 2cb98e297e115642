/**
 * Pure choices over a node's claim entries: which free address an ADD takes, how many are ready for a source,
 * and which free addresses a trim gives back.
 *
 * @packageDocumentation
 */
import type { AllocationSource } from '../mapping.ts';
import { parseTimestamp } from '../time.ts';
import type { ClaimEntry } from './ledger.ts';

/** Whether an entry's block belongs to a source. */
export function eligibleFor(entry: Pick<ClaimEntry, 'block' | 'pool'>, source: AllocationSource): boolean {
  return source.kind === 'blocks' ? source.names.includes(entry.block) : source.names.includes(entry.pool);
}

/** Epoch ms of an entry's release, undefined when it has none (an unreadable time counts as none). */
function releasedMs(entry: ClaimEntry): number | undefined {
  return entry.releasedAt === undefined ? undefined : parseTimestamp(entry.releasedAt)?.getTime();
}

/** Whether a free entry may be handed out now (its cooldown has passed). */
export function isReady(entry: ClaimEntry, nowMs: number, cooldownMs: number): boolean {
  if (entry.assignment !== undefined) return false;
  const at = releasedMs(entry);
  return at === undefined || at + cooldownMs <= nowMs;
}

/** Never-used entries first, then by release time (the longest cooled first), then by address text. */
function readyOrder(a: ClaimEntry, b: ClaimEntry): number {
  const ra = releasedMs(a) ?? -Infinity;
  const rb = releasedMs(b) ?? -Infinity;
  if (ra !== rb) return ra - rb;
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

/** The ready entries of a source, in the order an ADD takes them. */
export function readyFor(entries: Iterable<ClaimEntry>, source: AllocationSource, nowMs: number, cooldownMs: number): ClaimEntry[] {
  return [...entries].filter((e) => isReady(e, nowMs, cooldownMs) && eligibleFor(e, source)).sort(readyOrder);
}

/**
 * The free entries to give back so that at most `keep` stay free: those no source in use can take first, then
 * cooling ones (they cannot serve a pod soon), the most recently released first, then ready ones from the end
 * of the ready order.
 * @param inUse - whether a source the node's pods use can take the entry; default every entry is in use
 */
export function trimChoice(
  entries: Iterable<ClaimEntry>,
  keep: number,
  nowMs: number,
  cooldownMs: number,
  inUse: (entry: ClaimEntry) => boolean = () => true,
): ClaimEntry[] {
  const free = [...entries].filter((e) => e.assignment === undefined);
  if (free.length <= keep) return [];
  const rank = (e: ClaimEntry): number => (!inUse(e) ? 0 : !isReady(e, nowMs, cooldownMs) ? 1 : 2);
  const order = [...free].sort((a, b) => rank(a) - rank(b) || readyOrder(b, a));
  return order.slice(0, free.length - keep);
}
