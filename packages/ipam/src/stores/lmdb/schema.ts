/**
 * The schema version of an lmdb IPAM environment, so that a later release can recognise and migrate data
 * written by this one, and this one refuses data it does not understand.
 *
 * Schema 1: database `objects` (lmdb versions on, JSON values) with keys `IPPool/<name>`, `IPAMBlock/<name>`,
 * `IPAMHandle/<name>`, `ConfigMap/kube-system/hostnic-ipam-config`, values shaped like the CRD objects (for
 * the ConfigMap: its `data`); database `meta` with `schema` (this number) and `revision` (the last version
 * given out).
 *
 * @packageDocumentation
 */
import type { Database } from 'lmdb';
import { StoreIncompatibleError } from '../../store-errors.ts';

/** The schema this release writes. */
export const LMDB_SCHEMA_VERSION = 1;
/** Key of the schema version in the `meta` database. */
export const SCHEMA_KEY = 'schema';

/**
 * Stamps a new environment with the current schema, or checks an existing one. Runs in one write
 * transaction, so processes opening a new path at the same time agree.
 * @param meta - the `meta` database
 * @param location - the path, for errors
 * @throws {@link StoreIncompatibleError} for a schema newer than this release or not a number
 */
export function ensureSchema(meta: Database<unknown, string>, location: string): void {
  meta.transactionSync(() => {
    const found = meta.get(SCHEMA_KEY);
    if (found === undefined) {
      meta.putSync(SCHEMA_KEY, LMDB_SCHEMA_VERSION);
      return;
    }
    if (typeof found !== 'number' || !Number.isInteger(found) || found < 1) {
      throw new StoreIncompatibleError(location, `schema marker ${JSON.stringify(found)} is not a schema version`);
    }
    if (found > LMDB_SCHEMA_VERSION) {
      throw new StoreIncompatibleError(
        location,
        `it uses schema ${found}, this release of @hostnic/ipam reads up to ${LMDB_SCHEMA_VERSION}; upgrade the package`,
      );
    }
    // Older schemas would be migrated here, inside this transaction; schema 1 is the first.
  });
}
