/**
 * The agent's local datastore (lmdb under /var/lib/hostnic): pods, NICs, route tables, the intent journal.
 * See README.md in this directory.
 *
 * @packageDocumentation
 */
export { AgentDatastore } from './store.ts';
export type { AgentDatastoreOptions, DatastoreSnapshot } from './store.ts';
export type { DatastoreProblem } from './problems.ts';
export type { RouteTableEntry } from './records.ts';
export { podKey } from './records.ts';
export { SCHEMA_VERSION, MIGRATIONS, ensureSchema } from './schema.ts';
export type { Migration, SchemaOutcome } from './schema.ts';
export type { Env, RecordDbName } from './env.ts';
export {
  DatastoreError,
  DatastoreErrorCode,
  DatastoreOpenError,
  DatastoreClosedError,
  SchemaTooNewError,
  SchemaCorruptError,
  SchemaMigrationError,
  InvalidRecordError,
  RouteTableConflictError,
  RouteTableExhaustedError,
  VxnetConflictError,
  IntentNotFoundError,
} from './errors.ts';
