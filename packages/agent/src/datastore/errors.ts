/**
 * Errors of the agent datastore. Callers branch on the class (or on `code`, which survives serialisation
 * through the agent API), never on the message.
 *
 * @packageDocumentation
 */

/** Stable codes of the datastore errors. */
export const DatastoreErrorCode = {
  Open: 'DATASTORE_OPEN',
  Closed: 'DATASTORE_CLOSED',
  SchemaTooNew: 'DATASTORE_SCHEMA_TOO_NEW',
  SchemaCorrupt: 'DATASTORE_SCHEMA_CORRUPT',
  Migration: 'DATASTORE_MIGRATION',
  InvalidRecord: 'DATASTORE_INVALID_RECORD',
  RouteTableConflict: 'DATASTORE_ROUTE_TABLE_CONFLICT',
  RouteTableExhausted: 'DATASTORE_ROUTE_TABLE_EXHAUSTED',
  VxnetConflict: 'DATASTORE_VXNET_CONFLICT',
  IntentNotFound: 'DATASTORE_INTENT_NOT_FOUND',
} as const;
/** One of the values of {@link DatastoreErrorCode}. */
export type DatastoreErrorCode = (typeof DatastoreErrorCode)[keyof typeof DatastoreErrorCode];

/** Base class of every error the datastore throws on purpose. */
export abstract class DatastoreError extends Error {
  abstract readonly code: DatastoreErrorCode;
}

/** lmdb could not open the environment (permissions, disk full, not an lmdb directory, ...). */
export class DatastoreOpenError extends DatastoreError {
  readonly code = DatastoreErrorCode.Open;
  override name = 'DatastoreOpenError';
  readonly path: string;
  constructor(path: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`cannot open the agent datastore at ${path}${cause}`, options);
    this.path = path;
  }
}

/** A method was called after {@link AgentDatastore.close}. */
export class DatastoreClosedError extends DatastoreError {
  readonly code = DatastoreErrorCode.Closed;
  override name = 'DatastoreClosedError';
  constructor() {
    super('the agent datastore is closed');
  }
}

/** The directory was written by a newer agent: this release refuses to guess what the data means. */
export class SchemaTooNewError extends DatastoreError {
  readonly code = DatastoreErrorCode.SchemaTooNew;
  override name = 'SchemaTooNewError';
  readonly path: string;
  readonly found: number;
  readonly supported: number;
  constructor(path: string, found: number, supported: number) {
    super(
      `the agent datastore at ${path} uses schema ${found}, this hostnic-agent reads up to schema ${supported}: ` +
        'run a release at least as new as the one that wrote it',
    );
    this.path = path;
    this.found = found;
    this.supported = supported;
  }
}

/** The schema marker itself is not a schema version (written behind the agent's back). */
export class SchemaCorruptError extends DatastoreError {
  readonly code = DatastoreErrorCode.SchemaCorrupt;
  override name = 'SchemaCorruptError';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`the agent datastore at ${path} has an unreadable schema marker: ${detail}`);
    this.path = path;
  }
}

/** An older schema could not be migrated; the transaction was rolled back, the data is as it was. */
export class SchemaMigrationError extends DatastoreError {
  readonly code = DatastoreErrorCode.Migration;
  override name = 'SchemaMigrationError';
  readonly path: string;
  readonly from: number;
  constructor(path: string, from: number, detail: string, options?: ErrorOptions) {
    super(`cannot migrate the agent datastore at ${path} from schema ${from}: ${detail}`, options);
    this.path = path;
    this.from = from;
  }
}

/** A record handed to a write method breaks the schema; nothing was written. */
export class InvalidRecordError extends DatastoreError {
  readonly code = DatastoreErrorCode.InvalidRecord;
  override name = 'InvalidRecordError';
  readonly reason: string;
  constructor(what: string, reason: string) {
    super(`invalid ${what}: ${reason}`);
    this.reason = reason;
  }
}

/** A NIC record names a route table another NIC holds. */
export class RouteTableConflictError extends DatastoreError {
  readonly code = DatastoreErrorCode.RouteTableConflict;
  override name = 'RouteTableConflictError';
  readonly table: number;
  readonly holder: string;
  /** @param nicId - the NIC that wanted the table; undefined for a release */
  constructor(table: number, nicId: string | undefined, holder: string) {
    super(
      nicId === undefined
        ? `route table ${table} is held by NIC ${holder}: delete that NIC record to free it`
        : `route table ${table} of NIC ${nicId} is held by NIC ${holder}`,
    );
    this.table = table;
    this.holder = holder;
  }
}

/** No table is free between the base and the kernel's limit (practically unreachable; a leak if seen). */
export class RouteTableExhaustedError extends DatastoreError {
  readonly code = DatastoreErrorCode.RouteTableExhausted;
  override name = 'RouteTableExhaustedError';
  constructor(base: number) {
    super(`no free route table at or above ${base}`);
  }
}

/** A NIC record names a vxnet another NIC record already serves (one NIC per vxnet). */
export class VxnetConflictError extends DatastoreError {
  readonly code = DatastoreErrorCode.VxnetConflict;
  override name = 'VxnetConflictError';
  readonly vxnetId: string;
  readonly holder: string;
  constructor(vxnetId: string, nicId: string, holder: string) {
    super(`vxnet ${vxnetId} of NIC ${nicId} is already served by NIC ${holder}; delete that record first`);
    this.vxnetId = vxnetId;
    this.holder = holder;
  }
}

/** {@link AgentDatastore.updateIntent} named an intent that is not (or no longer) in the journal. */
export class IntentNotFoundError extends DatastoreError {
  readonly code = DatastoreErrorCode.IntentNotFound;
  override name = 'IntentNotFoundError';
  readonly id: string;
  constructor(id: string) {
    super(`intent ${id} is not in the journal`);
    this.id = id;
  }
}
