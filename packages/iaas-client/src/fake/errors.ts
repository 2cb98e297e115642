/**
 * Errors of the fake. `FakeApiError` becomes a `{ret_code, message}` envelope; `FakeInputError` is a bad
 * seed or control request (HTTP 400 on the control API, a thrown error for typed callers).
 */

const NAMES: Readonly<Record<number, string>> = {
  1100: 'InvalidParameter',
  1101: 'ActionNotFound',
  1200: 'AuthFailure',
  1300: 'MessageExpired',
  1400: 'PermissionDenied',
  2100: 'ResourceNotFound',
  2110: 'ResourceAlreadyExists',
  2500: 'QuotaExceeded',
  5000: 'InternalError',
  5100: 'ServerBusy',
  5200: 'InsufficientResource',
  5300: 'ServiceUpdating',
};

/** The `<Name>` part of QingCloud's `<Name>, <detail>` messages. */
export function errorNameFor(retCode: number): string {
  return NAMES[retCode] ?? 'Error';
}

export class FakeApiError extends Error {
  override name = 'FakeApiError';
  readonly retCode: number;

  constructor(retCode: number, detail: string, errorName: string = errorNameFor(retCode)) {
    super(`${errorName}, ${detail}`);
    this.retCode = retCode;
  }
}

export const badParam = (detail: string): FakeApiError => new FakeApiError(1100, detail);
export const missingParam = (name: string): FakeApiError =>
  new FakeApiError(1100, `parameter [${name}] is required`);
export const notFound = (id: string, kind = 'resource'): FakeApiError =>
  new FakeApiError(2100, `${kind} [${id}] not found`);
export const denied = (detail: string): FakeApiError => new FakeApiError(1400, detail);
export const quotaExceeded = (detail: string): FakeApiError => new FakeApiError(2500, detail);

export class FakeInputError extends Error {
  override name = 'FakeInputError';
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}
