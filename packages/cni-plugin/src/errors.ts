/**
 * CNI errors: every failure the plugin reports is one of these classes, each carrying its CNI error code, so
 * that the code is decided where the failure is understood and nowhere else.
 */

import { CniCode } from '@hostnic/protocol';

export class CniError extends Error {
  override name = 'CniError';
  readonly code: number;
  readonly details: string | undefined;

  constructor(code: number, msg: string, details?: string, options?: { cause?: unknown }) {
    super(msg, options);
    this.code = code;
    this.details = details === '' ? undefined : details;
  }
}

export class IncompatibleVersionError extends CniError {
  override name = 'IncompatibleVersionError';
  constructor(msg: string, details?: string) {
    super(CniCode.incompatibleVersion, msg, details);
  }
}

export class UnknownContainerError extends CniError {
  override name = 'UnknownContainerError';
  constructor(msg: string, details?: string) {
    super(CniCode.unknownContainer, msg, details);
  }
}

export class InvalidEnvironmentError extends CniError {
  override name = 'InvalidEnvironmentError';
  constructor(msg: string, details?: string) {
    super(CniCode.invalidEnv, msg, details);
  }
}

export class IoError extends CniError {
  override name = 'IoError';
  constructor(msg: string, details?: string, options?: { cause?: unknown }) {
    super(CniCode.io, msg, details, options);
  }
}

export class DecodeError extends CniError {
  override name = 'DecodeError';
  constructor(msg: string, details?: string) {
    super(CniCode.decode, msg, details);
  }
}

/** Code 7; `field` is the netconf key at fault (dotted for nested keys) when there is one. */
export class InvalidConfigError extends CniError {
  override name = 'InvalidConfigError';
  readonly field: string | undefined;
  constructor(msg: string, details?: string, field?: string) {
    super(CniCode.invalidConfig, msg, details);
    this.field = field;
  }
}

export class TryAgainLaterError extends CniError {
  override name = 'TryAgainLaterError';
  constructor(msg: string, details?: string, options?: { cause?: unknown }) {
    super(CniCode.tryAgain, msg, details, options);
  }
}

/** STATUS: 50, or 51 when existing pods may have limited connectivity too. */
export class NotAvailableError extends CniError {
  override name = 'NotAvailableError';
  constructor(code: 50 | 51, msg: string, details?: string) {
    super(code, msg, details);
  }
}

export class InternalError extends CniError {
  override name = 'InternalError';
  constructor(msg: string, details?: string, options?: { cause?: unknown }) {
    super(CniCode.internal, msg, details, options);
  }
}

/** Anything thrown becomes a CNI error; unexpected ones keep their text under the catch-all code. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) return new InternalError(e.message, undefined, { cause: e });
  return new InternalError(String(e));
}

/**
 * The error JSON [compat]: 4-space indentation, keys `code`, `msg`, `details` (omitted when empty), no
 * trailing newline. `cniVersion` leads when given (CNI 1.x requires it; 0.x runtimes never saw it).
 */
export function formatError(e: CniError, cniVersion?: string): string {
  // Built key by key: JSON.stringify keeps insertion order, and the order is part of the format.
  const body: Record<string, string | number> = {};
  if (cniVersion !== undefined) body['cniVersion'] = cniVersion;
  body['code'] = e.code;
  body['msg'] = e.message;
  if (e.details !== undefined) body['details'] = e.details;
  return JSON.stringify(body, null, 4);
}
