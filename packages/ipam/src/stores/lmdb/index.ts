/**
 * `@hostnic/ipam/lmdb`: the embedded store, for one host and for setups without Kubernetes. Several processes
 * may open the same path at once; lmdb's lock makes their writes atomic with respect to each other.
 *
 * Needs the optional peer dependency `lmdb` (3.x).
 *
 * @example
 * import { LmdbIpamStore } from '@hostnic/ipam/lmdb';
 * const store = LmdbIpamStore.open('/var/lib/hostnic/ipam');
 *
 * @packageDocumentation
 */
import { open } from 'lmdb';
import type { KvStoreHooks } from '../kv.ts';
import { KvIpamStore } from '../kv.ts';
import { LmdbEngine } from './engine.ts';
import { ensureSchema } from './schema.ts';

export { LMDB_SCHEMA_VERSION } from './schema.ts';
export { LmdbClaimLedger } from './claim-ledger.ts';

/** Options of {@link LmdbIpamStore.open}. */
export interface LmdbStoreOptions {
  /** Maximum size of the environment in bytes (lmdb's `mapSize`); lmdb grows it on demand when unset. */
  readonly mapSize?: number;
  /** Hooks (fault injection in tests). */
  readonly hooks?: KvStoreHooks;
}

/** An {@link IpamStore} in an lmdb environment at a directory. */
export class LmdbIpamStore extends KvIpamStore {
  /** The directory of the environment. */
  readonly path: string;

  private constructor(path: string, engine: LmdbEngine, hooks: KvStoreHooks | undefined) {
    super(engine, hooks);
    this.path = path;
  }

  /**
   * Opens (creating when needed) the environment in the directory `path` (created when missing).
   * @param path - the directory
   * @param options - options
   * @throws {@link StoreIncompatibleError} when the data was written by a newer schema
   */
  static open(path: string, options: LmdbStoreOptions = {}): LmdbIpamStore {
    // lmdb would take a path with a dot in its last part (`ipam.db`) for a file; this store always uses a directory.
    const root = open({ path, noSubdir: false, ...(options.mapSize === undefined ? {} : { mapSize: options.mapSize }) });
    try {
      const objects = root.openDB<unknown, string>({ name: 'objects', useVersions: true, encoding: 'json' });
      const meta = root.openDB<unknown, string>({ name: 'meta', encoding: 'json' });
      ensureSchema(meta, path);
      return new LmdbIpamStore(path, new LmdbEngine(root, objects, meta), options.hooks);
    } catch (error) {
      void root.close();
      throw error;
    }
  }
}
