/**
 * The node's own record of its claim: every claimed address, free or assigned to a pod. It is the truth for
 * assignments inside the claim (the cluster learns them later, in batches), so it must be durable before an
 * address is used: the agent keeps it in lmdb (`LmdbClaimLedger` of `@hostnic/ipam/lmdb`).
 *
 * @packageDocumentation
 */
import type { ClaimedAssignment } from './rows.ts';

/** One claimed address in the ledger. */
export interface ClaimEntry {
  /** The address. */
  readonly address: string;
  /** The address with its block's prefix length. */
  readonly addressWithPrefix: string;
  /** The IPAMBlock holding it. */
  readonly block: string;
  /** The IPPool (vxnet) of the block. */
  readonly pool: string;
  /** The pool's gateway, when it has one. */
  readonly gateway: string | undefined;
  /** The pod using it; undefined = free. */
  readonly assignment: ClaimedAssignment | undefined;
  /** When a pod last released it (RFC 3339): it is not handed out again before the cooldown has passed. */
  readonly releasedAt: string | undefined;
  /** Whether the cluster has been told the current state of this address. */
  readonly published: boolean;
}

/** Durable storage of claim entries, keyed by address. */
export interface ClaimLedger {
  /** Every entry. */
  load(): Promise<ClaimEntry[]>;
  /** Writes entries (replacing those with the same address), durably, in one transaction. */
  put(entries: readonly ClaimEntry[]): Promise<void>;
  /** Removes entries by address, durably, in one transaction. */
  remove(addresses: readonly string[]): Promise<void>;
}

/** A ledger in memory (tests, embedded use where a restart loses the pods anyway). */
export class MemoryClaimLedger implements ClaimLedger {
  readonly #entries = new Map<string, ClaimEntry>();

  async load(): Promise<ClaimEntry[]> {
    return [...this.#entries.values()];
  }

  async put(entries: readonly ClaimEntry[]): Promise<void> {
    for (const e of entries) this.#entries.set(e.address, e);
  }

  async remove(addresses: readonly string[]): Promise<void> {
    for (const a of addresses) this.#entries.delete(a);
  }
}
