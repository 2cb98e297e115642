/**
 * Errors every {@link IpamStore} implementation throws, whatever the storage behind it. The allocator branches
 * on these classes (a {@link ConflictError} means "re-read and retry", a {@link StoreUnavailableError} means
 * "give up this attempt"), so a third-party store must map its own failures onto them.
 *
 * `Error.name` already holds the class name, so the object's name is in {@link StoreError.objectName}.
 *
 * @packageDocumentation
 */
import { IpamError, IpamErrorCode } from './errors.ts';

/** The kinds of object a store keeps. */
export const StoreKind = {
  IPPool: 'IPPool',
  IPAMBlock: 'IPAMBlock',
  IPAMHandle: 'IPAMHandle',
  /** The `kube-system/hostnic-ipam-config` ConfigMap (its `data`). */
  ConfigMap: 'ConfigMap',
} as const;
/** One of the values of {@link StoreKind}. */
export type StoreKind = (typeof StoreKind)[keyof typeof StoreKind];

/** Base class of the store errors: names the object concerned. */
export abstract class StoreError extends IpamError {
  /** The kind of object. */
  readonly kind: StoreKind;
  /** The object's name (`kube-system/hostnic-ipam-config` for the ConfigMap). */
  readonly objectName: string;
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name
   * @param message - the message
   * @param options - the underlying cause, when there is one
   */
  constructor(kind: StoreKind, objectName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.objectName = objectName;
  }
}

/** A write named a version that is no longer the object's current one: re-read and try again. */
export class ConflictError extends StoreError {
  readonly code = IpamErrorCode.Conflict;
  override name = 'ConflictError';
  /** The version the write expected. */
  readonly expectedVersion: string | undefined;
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name
   * @param expectedVersion - the version the write expected
   * @param options - the underlying cause
   */
  constructor(kind: StoreKind, objectName: string, expectedVersion: string | undefined, options?: ErrorOptions) {
    const expected = expectedVersion === undefined ? '' : ` (expected version ${expectedVersion})`;
    super(kind, objectName, `${kind} ${objectName} was changed by someone else${expected}: re-read it and retry`, options);
    this.expectedVersion = expectedVersion;
  }
}

/** A create named an object that exists already. */
export class AlreadyExistsError extends StoreError {
  readonly code = IpamErrorCode.AlreadyExists;
  override name = 'AlreadyExistsError';
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name
   * @param options - the underlying cause
   */
  constructor(kind: StoreKind, objectName: string, options?: ErrorOptions) {
    super(kind, objectName, `${kind} ${objectName} already exists: read it and update it instead`, options);
  }
}

/** An update or delete named an object that does not exist. (Reads report absence as `undefined`.) */
export class NotFoundError extends StoreError {
  readonly code = IpamErrorCode.NotFound;
  override name = 'NotFoundError';
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name
   * @param options - the underlying cause
   */
  constructor(kind: StoreKind, objectName: string, options?: ErrorOptions) {
    super(kind, objectName, `${kind} ${objectName} does not exist (it may have been deleted concurrently)`, options);
  }
}

/**
 * The store failed transiently: network error, server error (5xx, 429), timeout. The store already retried
 * within its own bounds; `cause` holds the last underlying error. A write that ended this way may or may not
 * have been applied.
 */
export class StoreUnavailableError extends StoreError {
  readonly code = IpamErrorCode.StoreUnavailable;
  override name = 'StoreUnavailableError';
  /** The store operation, e.g. `updateBlock`. */
  readonly operation: string;
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name (empty for lists)
   * @param operation - the store operation
   * @param detail - what failed
   * @param options - the underlying cause
   */
  constructor(kind: StoreKind, objectName: string, operation: string, detail: string, options?: ErrorOptions) {
    const what = objectName === '' ? kind : `${kind} ${objectName}`;
    super(kind, objectName, `store unavailable: ${operation} of ${what} failed: ${detail}; retry later`, options);
    this.operation = operation;
  }
}

/**
 * The store refused the request for a reason retrying will not fix: no permission (HTTP 403), an object the
 * server considers invalid (HTTP 422), ... `cause` holds the underlying error.
 */
export class StoreRejectedError extends StoreError {
  readonly code = IpamErrorCode.StoreRejected;
  override name = 'StoreRejectedError';
  /** The store operation, e.g. `createBlock`. */
  readonly operation: string;
  /** The HTTP status, for HTTP-based stores. */
  readonly status: number | undefined;
  /**
   * @param kind - the kind of object
   * @param objectName - the object's name (empty for lists)
   * @param operation - the store operation
   * @param status - the HTTP status, when there is one
   * @param detail - what the store said
   * @param options - the underlying cause
   */
  constructor(kind: StoreKind, objectName: string, operation: string, status: number | undefined, detail: string, options?: ErrorOptions) {
    const what = objectName === '' ? kind : `${kind} ${objectName}`;
    const code = status === undefined ? '' : ` (HTTP ${status})`;
    super(kind, objectName, `store refused ${operation} of ${what}${code}: ${detail}`, options);
    this.operation = operation;
    this.status = status;
  }
}

/** The stored data cannot be used by this version (e.g. written by a newer schema). */
export class StoreIncompatibleError extends IpamError {
  readonly code = IpamErrorCode.StoreIncompatible;
  override name = 'StoreIncompatibleError';
  /** Where the store lives (a path or URL). */
  readonly location: string;
  /**
   * @param location - where the store lives
   * @param detail - what is incompatible and what to do
   */
  constructor(location: string, detail: string) {
    super(`store at ${location} is incompatible: ${detail}`);
    this.location = location;
  }
}

/**
 * Whether an error is one of the store errors of `kind` (duck-typed on `code`, so errors thrown by another copy
 * of this package are recognised too).
 * @param error - anything thrown
 * @param code - the code to look for
 */
export function isStoreErrorCode(error: unknown, code: IpamErrorCode): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}
