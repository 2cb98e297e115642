/**
 * A node's claim ledger in an lmdb environment of its own (a directory): one entry per claimed address, each
 * put or remove one write transaction whose commit and fsync run on lmdb's writer thread, so that the event
 * loop goes on serving other pods meanwhile; the call resolves once the commit is flushed, i.e. durable.
 * Writes commit in the order they were called, as the claim needs: a later state of an address never loses
 * to an earlier one.
 *
 * @packageDocumentation
 */
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import type { ClaimEntry, ClaimLedger } from '../../claim/ledger.ts';
import { StoreIncompatibleError } from '../../store-errors.ts';
import { ensureSchema } from './schema.ts';

function optionalString(v: unknown): v is string | undefined {
  return v === undefined || typeof v === 'string';
}

/** Checks a stored entry's shape (written by this module, so a mismatch means damage or a newer writer). */
function decodeEntry(key: string, value: unknown, location: string): ClaimEntry {
  const e = value as Partial<Record<keyof ClaimEntry, unknown>> | null;
  const a = e?.assignment as Partial<Record<string, unknown>> | undefined | null;
  const fine =
    e !== null &&
    typeof e === 'object' &&
    e.address === key &&
    typeof e.addressWithPrefix === 'string' &&
    typeof e.block === 'string' &&
    typeof e.pool === 'string' &&
    optionalString(e.gateway) &&
    optionalString(e.releasedAt) &&
    typeof e.published === 'boolean' &&
    (a === undefined ||
      (a !== null && typeof a.handleId === 'string' && typeof a.namespace === 'string' && typeof a.pod === 'string' && typeof a.at === 'string'));
  if (!fine) throw new StoreIncompatibleError(location, `claim entry ${key} is not a claim entry this release can read; move the directory away to rebuild it from the cluster`);
  return e as ClaimEntry;
}

/** lmdb's JSON encoding drops undefined fields; they are restored as undefined on read. */
function stored(e: ClaimEntry): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
}

/** A {@link ClaimLedger} in lmdb. */
export class LmdbClaimLedger implements ClaimLedger {
  /** The directory of the environment. */
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #entries: Database<unknown, string>;

  private constructor(path: string, root: RootDatabase, entries: Database<unknown, string>) {
    this.path = path;
    this.#root = root;
    this.#entries = entries;
  }

  /**
   * Opens (creating when needed) the ledger in the directory `path`.
   * @throws {@link StoreIncompatibleError} when the data was written by a newer schema
   */
  static open(path: string): LmdbClaimLedger {
    const root = open({ path, noSubdir: false });
    try {
      const entries = root.openDB<unknown, string>({ name: 'claim', encoding: 'json' });
      ensureSchema(root.openDB<unknown, string>({ name: 'meta', encoding: 'json' }), path);
      return new LmdbClaimLedger(path, root, entries);
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  async load(): Promise<ClaimEntry[]> {
    this.#root.resetReadTxn();
    const out: ClaimEntry[] = [];
    for (const { key, value } of this.#entries.getRange()) {
      const e = decodeEntry(key, value, this.path);
      out.push({
        address: e.address,
        addressWithPrefix: e.addressWithPrefix,
        block: e.block,
        pool: e.pool,
        gateway: e.gateway,
        assignment: e.assignment,
        releasedAt: e.releasedAt,
        published: e.published,
      });
    }
    return out;
  }

  async put(entries: readonly ClaimEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#durableWrite(() => {
      for (const e of entries) void this.#entries.put(e.address, stored(e));
    });
  }

  async remove(addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return;
    await this.#durableWrite(() => {
      for (const a of addresses) void this.#entries.remove(a);
    });
  }

  /**
   * Runs `action` as one child transaction of lmdb's write batch of the turn, so a throw writes none of it while
   * the batch's other callbacks still commit; the commit and its fsync run on lmdb's writer thread. Resolves once
   * the commit is flushed to disk. Only for an environment one process writes: the store's engine, which
   * processes share, commits synchronously (see engine.ts).
   */
  async #durableWrite(action: () => void): Promise<void> {
    await this.#root.childTransaction(action);
    await this.#root.flushed;
  }

  /** Closes the environment. */
  async close(): Promise<void> {
    await this.#root.close();
  }
}
