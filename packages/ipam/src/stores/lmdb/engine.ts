/**
 * The lmdb key-value engine: one environment, objects in the `objects` database under `<kind>/<name>` with
 * lmdb's own entry versions, and a `meta` database holding the schema version and the revision counter.
 *
 * Every write is one synchronous lmdb write transaction. lmdb serialises write transactions across all
 * processes that open the same path (its lock file), so inside one the read, the condition check and the writes
 * are atomic: the revision counter is bumped, and the object is written with `put(key, value, revision,
 * ifVersion)` — lmdb's compare-and-swap — so the version check happens in lmdb itself as well. Versions are
 * revisions of the whole environment, hence never reused for a key, even after delete and re-create.
 *
 * Synchronous, fsync included, because several processes share this path by design, and lmdb's asynchronous
 * writer (`childTransaction()` committing on its writer thread, with its default overlapping sync) was measured
 * unsafe for that here: under load, the four-process test of this package saw a lost handle and an address
 * given to two handles, and eight processes doing compare-and-swap increments of one key crashed one of them
 * (SIGSEGV) in 2 of 20 rounds, while the synchronous commit lost nothing. The agent does not use this store (its
 * claim ledger, one process, commits on the writer thread: `claim-ledger.ts`), so the cost, the event loop
 * held for each commit, falls on the library's standalone users only.
 *
 * @packageDocumentation
 */
import type { Database, RootDatabase } from 'lmdb';
import type { StoreKind } from '../../store-errors.ts';
import type { KvCondition, KvEngine, KvEntry, KvOutcome } from '../kv.ts';

/** Key of the revision counter in the `meta` database. */
export const REVISION_KEY = 'revision';

/**
 * Reads the outcome of a conditional write made inside a write transaction: lmdb returns an already settled
 * promise that carries its result synchronously.
 */
function settled(result: Promise<boolean> | boolean): boolean {
  if (typeof result === 'boolean') return result;
  const value = (result as Promise<boolean> & { result?: unknown }).result;
  if (typeof value !== 'boolean') throw new Error('lmdb did not complete a conditional write synchronously');
  return value;
}

function keyOf(kind: StoreKind, name: string): string {
  return `${kind}/${name}`;
}

/** The lmdb engine over an open environment. */
export class LmdbEngine implements KvEngine {
  readonly #root: RootDatabase;
  readonly #objects: Database<unknown, string>;
  readonly #meta: Database<unknown, string>;

  /**
   * @param root - the environment
   * @param objects - the versioned `objects` database
   * @param meta - the `meta` database
   */
  constructor(root: RootDatabase, objects: Database<unknown, string>, meta: Database<unknown, string>) {
    this.#root = root;
    this.#objects = objects;
    this.#meta = meta;
  }

  async get(kind: StoreKind, name: string): Promise<KvEntry | undefined> {
    // lmdb-js keeps a read snapshot for the rest of the event turn; drop it so other processes' commits show.
    this.#root.resetReadTxn();
    const entry = this.#objects.getEntry(keyOf(kind, name));
    if (entry === undefined) return undefined;
    return { name, value: entry.value, version: String(entry.version ?? 0) };
  }

  async list(kind: StoreKind): Promise<KvEntry[]> {
    this.#root.resetReadTxn();
    const prefix = `${kind}/`;
    const out: KvEntry[] = [];
    // '0' follows '/' in code order, so the range holds exactly the keys of this kind.
    for (const { key, value, version } of this.#objects.getRange({ start: prefix, end: `${kind}0`, versions: true })) {
      out.push({ name: key.slice(prefix.length), value, version: String(version ?? 0) });
    }
    return out;
  }

  async put(kind: StoreKind, name: string, value: unknown, condition: KvCondition): Promise<KvOutcome> {
    const key = keyOf(kind, name);
    return this.#root.transactionSync((): KvOutcome => {
      const current = this.#objects.getEntry(key);
      if ('absent' in condition && current !== undefined) return { ok: false, reason: 'exists' };
      if ('version' in condition) {
        if (current === undefined) return { ok: false, reason: 'missing' };
        if (String(current.version ?? 0) !== condition.version) return { ok: false, reason: 'stale' };
      }
      const revision = this.#nextRevision();
      // null = "must not exist" (MDB_NOOVERWRITE); a number = "must be at this version".
      const ifVersion = current === undefined ? null : (current.version ?? 0);
      if (!settled(this.#objects.put(key, value, revision, ifVersion as number))) {
        throw new Error(`lmdb refused the conditional write of ${key} inside its own transaction`);
      }
      return { ok: true, version: String(revision) };
    });
  }

  async remove(kind: StoreKind, name: string, version: string | undefined): Promise<KvOutcome> {
    const key = keyOf(kind, name);
    return this.#root.transactionSync((): KvOutcome => {
      const current = this.#objects.getEntry(key);
      if (current === undefined) return { ok: false, reason: 'missing' };
      const currentVersion = current.version ?? 0;
      if (version !== undefined && String(currentVersion) !== version) return { ok: false, reason: 'stale' };
      const revision = this.#nextRevision();
      if (!settled(this.#objects.remove(key, currentVersion))) {
        throw new Error(`lmdb refused the conditional delete of ${key} inside its own transaction`);
      }
      return { ok: true, version: String(revision) };
    });
  }

  async close(): Promise<void> {
    await this.#root.close();
  }

  #nextRevision(): number {
    const last = this.#meta.get(REVISION_KEY);
    const revision = (typeof last === 'number' ? last : 0) + 1;
    // Inside the write transaction a put is written at once (no commit of its own), and read back by the next.
    void this.#meta.put(REVISION_KEY, revision);
    return revision;
  }
}
