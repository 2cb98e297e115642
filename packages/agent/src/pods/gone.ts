/**
 * Pod records whose pod is gone without a DEL (kubelet lost it, the node was drained while the agent was
 * down): their ARP entry, host rules and IPAM handle would stay forever, and once the controller's leak check
 * hands the address to a pod elsewhere, this node would still answer ARP for it. A record is released when its
 * pod is seen gone — deleted, now on another node, or re-created after the record (a new incarnation of the
 * same name) — in two looks at least the grace period apart, and a fresh read confirms it
 * (docs/pod-path.md#pods-gone-without-a-del). Pure: the lookups and the release are the caller's.
 */

import type { PodRecord } from '../types.ts';

/** What the API says about a record's pod. */
export type PodPresence =
  | { readonly kind: 'here'; readonly createdAt?: Date | undefined }
  | { readonly kind: 'gone' }
  | { readonly kind: 'elsewhere'; readonly node: string }
  /** The API could not be asked: nothing is decided on it. */
  | { readonly kind: 'unknown'; readonly reason: string };

/** Why a record's pod counts as gone. */
export type GoneReason = 'deleted' | 'moved' | 'recreated';

/** Pods re-created this long after our record count as a new incarnation (margin for clock skew). */
export const RECREATED_MARGIN_MS = 60_000;

export function goneReason(record: Pick<PodRecord, 'createdAt'>, presence: PodPresence): GoneReason | undefined {
  switch (presence.kind) {
    case 'gone':
      return 'deleted';
    case 'elsewhere':
      return 'moved';
    case 'here': {
      const recorded = Date.parse(record.createdAt);
      if (presence.createdAt === undefined || !Number.isFinite(recorded)) return undefined;
      return presence.createdAt.getTime() > recorded + RECREATED_MARGIN_MS ? 'recreated' : undefined;
    }
    default:
      return undefined;
  }
}

export interface GoneCandidate {
  readonly record: PodRecord;
  readonly reason: GoneReason;
  /** When it was first seen gone. */
  readonly since: number;
}

/** Remembers when each record was first seen gone; a record seen present again starts over. */
export class GonePodTracker {
  readonly #firstSeen = new Map<string, number>();

  /**
   * One look at every record.
   * @returns the records gone for at least `graceMs` (seen gone before, at this look again)
   */
  observe(
    records: readonly PodRecord[],
    presenceOf: (record: PodRecord) => PodPresence,
    now: number,
    graceMs: number,
  ): GoneCandidate[] {
    const due: GoneCandidate[] = [];
    const keys = new Set<string>();
    for (const record of records) {
      const key = `${record.containerId}/${record.ifName}`;
      keys.add(key);
      const presence = presenceOf(record);
      if (presence.kind === 'unknown') continue;
      const reason = goneReason(record, presence);
      if (reason === undefined) {
        this.#firstSeen.delete(key);
        continue;
      }
      const since = this.#firstSeen.get(key);
      if (since === undefined) {
        this.#firstSeen.set(key, now);
        continue;
      }
      if (now - since >= graceMs) due.push({ record, reason, since });
    }
    for (const key of [...this.#firstSeen.keys()]) if (!keys.has(key)) this.#firstSeen.delete(key);
    return due;
  }

  /** Forgets a record (released, or found present by the final check). */
  forget(record: Pick<PodRecord, 'containerId' | 'ifName'>): void {
    this.#firstSeen.delete(`${record.containerId}/${record.ifName}`);
  }
}
