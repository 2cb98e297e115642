/**
 * The schema version of the datastore and the migrations between versions.
 *
 * Opening runs {@link ensureSchema} in one write transaction: a new directory is stamped with
 * {@link SCHEMA_VERSION}; an older one is migrated step by step (each migration takes version N to N+1) and the
 * marker advanced after each step — all or nothing, since a throw aborts the transaction; a newer one is refused
 * with {@link SchemaTooNewError}, because this release cannot know what the newer fields mean and writing
 * through them could destroy state a rollback of the agent still needs.
 *
 * @packageDocumentation
 */
import { decode, encode } from './codec.ts';
import type { Env } from './env.ts';
import { DatastoreError, SchemaCorruptError, SchemaMigrationError, SchemaTooNewError } from './errors.ts';

/** The schema this release reads and writes. 1 = the first (see env.ts for its layout). */
export const SCHEMA_VERSION = 1;
export const SCHEMA_KEY = 'schema';

/** One step from `from` to `from + 1`, run inside the opening write transaction. */
export interface Migration {
  readonly from: number;
  readonly description: string;
  /** Rewrites records in place through the env's databases (`putSync`/`removeSync`); throw to abort. */
  apply(env: Env): void;
}

/** Migrations of this release, one per older schema. Schema 1 is the first, so there are none yet. */
export const MIGRATIONS: readonly Migration[] = [];

/** What opening found. */
export type SchemaOutcome =
  | { readonly kind: 'created'; readonly version: number }
  | { readonly kind: 'current'; readonly version: number }
  | { readonly kind: 'migrated'; readonly from: number; readonly version: number };

function readVersion(env: Env, location: string): number | undefined {
  const raw = env.meta.get(SCHEMA_KEY);
  if (raw === undefined) return undefined;
  const decoded = decode(raw);
  if (!decoded.ok) throw new SchemaCorruptError(location, decoded.reason);
  const v = decoded.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new SchemaCorruptError(location, `${JSON.stringify(v)} is not a schema version`);
  }
  return v;
}

/**
 * Stamps, checks or migrates the schema. `target` and `migrations` are parameters so the mechanism can be
 * exercised before a release actually needs it.
 * @throws {@link SchemaTooNewError}, {@link SchemaCorruptError}, {@link SchemaMigrationError}
 */
export function ensureSchema(
  env: Env,
  location: string,
  target: number = SCHEMA_VERSION,
  migrations: readonly Migration[] = MIGRATIONS,
): SchemaOutcome {
  return env.root.transactionSync((): SchemaOutcome => {
    const found = readVersion(env, location);
    if (found === undefined) {
      env.meta.putSync(SCHEMA_KEY, encode(target));
      return { kind: 'created', version: target };
    }
    if (found > target) throw new SchemaTooNewError(location, found, target);
    if (found === target) return { kind: 'current', version: target };
    for (let v = found; v < target; v++) {
      const step = migrations.find((m) => m.from === v);
      if (step === undefined) throw new SchemaMigrationError(location, v, `no migration from schema ${v} to ${v + 1}`);
      try {
        step.apply(env);
      } catch (error) {
        if (error instanceof DatastoreError) throw error;
        throw new SchemaMigrationError(location, v, `${step.description} failed`, { cause: error });
      }
      env.meta.putSync(SCHEMA_KEY, encode(v + 1));
    }
    return { kind: 'migrated', from: found, version: target };
  });
}
