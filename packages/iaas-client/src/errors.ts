/** Every error this package throws derives from this, so callers can catch the whole family at once. */
export class IaasClientError extends Error {
  override name = 'IaasClientError';
}

/** The API answered with a non-zero `ret_code`. `message` keeps the server's text verbatim. */
export class IaasError extends IaasClientError {
  override name = 'IaasError';
  readonly action: string;
  readonly retCode: number;
  readonly serverMessage: string;

  constructor(action: string, retCode: number, serverMessage: string | undefined) {
    const text = serverMessage ?? 'null';
    // Same text as the Go SDK's error, so that operators' greps and log alerts keep working.
    super(`QingCloud Error: Code (${retCode}), Message (${text}) [action ${action}]`);
    this.action = action;
    this.retCode = retCode;
    this.serverMessage = text;
  }
}

/** Whether the request may have reached the server before it failed. */
export type DeliveryState = 'not-sent' | 'maybe-sent';

/** The HTTP exchange failed: connection refused or reset, timeout, or a non-200 status. */
export class IaasTransportError extends IaasClientError {
  override name = 'IaasTransportError';
  readonly action: string;
  readonly delivery: DeliveryState;
  readonly code: string | undefined;
  readonly httpStatus: number | undefined;

  constructor(
    action: string,
    message: string,
    options: { delivery: DeliveryState; code?: string; httpStatus?: number; cause?: unknown },
  ) {
    super(`${action}: ${message}`, { cause: options.cause });
    this.action = action;
    this.delivery = options.delivery;
    this.code = options.code;
    this.httpStatus = options.httpStatus;
  }
}

/** HTTP 200 but not a QingCloud envelope: wrong content type, malformed JSON, no `ret_code`. */
export class IaasProtocolError extends IaasClientError {
  override name = 'IaasProtocolError';
  readonly action: string;
  constructor(action: string, message: string, options?: { cause?: unknown }) {
    super(`${action}: ${message}`, options);
    this.action = action;
  }
}

/** A successful response lacks a field we rely on, or has it with the wrong type. */
export class IaasResponseError extends IaasClientError {
  override name = 'IaasResponseError';
  readonly action: string;
  readonly field: string;
  constructor(action: string, field: string, problem: string) {
    super(`${action}: response field ${field} ${problem}`);
    this.action = action;
    this.field = field;
  }
}

/** The caller passed input the API would reject; raised before any request is made. */
export class IaasInputError extends IaasClientError {
  override name = 'IaasInputError';
  readonly action: string;
  readonly field: string;
  constructor(action: string, field: string, problem: string) {
    super(`${action}: ${field} ${problem}`);
    this.action = action;
    this.field = field;
  }
}

/** The QingCloud config file is missing, unreadable or has a bad field. */
export class IaasConfigError extends IaasClientError {
  override name = 'IaasConfigError';
  readonly file: string;
  readonly field: string | undefined;
  constructor(file: string, message: string, field?: string) {
    super(field === undefined ? `${file}: ${message}` : `${file}: field "${field}" ${message}`);
    this.file = file;
    this.field = field;
  }
}

export type JobStatus = 'pending' | 'working' | 'successful' | 'failed' | (string & {});

export class JobFailedError extends IaasClientError {
  override name = 'JobFailedError';
  readonly jobId: string;
  readonly jobAction: string | undefined;
  constructor(jobId: string, jobAction: string | undefined) {
    super(`Job [${jobId}] failed${jobAction ? ` (${jobAction})` : ''}`);
    this.jobId = jobId;
    this.jobAction = jobAction;
  }
}

export class JobNotFoundError extends IaasClientError {
  override name = 'JobNotFoundError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`Can not find job [${jobId}]`);
    this.jobId = jobId;
  }
}

export class JobTimeoutError extends IaasClientError {
  override name = 'JobTimeoutError';
  readonly jobId: string;
  readonly lastStatus: JobStatus | undefined;
  readonly timeoutMs: number;
  constructor(jobId: string, timeoutMs: number, lastStatus: JobStatus | undefined, lastPollError?: unknown) {
    const pollError = lastPollError instanceof Error ? `; last poll failed: ${lastPollError.message}` : '';
    super(`Job [${jobId}] did not finish within ${timeoutMs} ms (last status: ${lastStatus ?? 'unknown'}${pollError})`, {
      cause: lastPollError,
    });
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
    this.lastStatus = lastStatus;
  }
}

export const RetCode = {
  MessageFormat: 1100,
  WrongMethod: 1101,
  AuthFailed: 1200,
  MessageExpired: 1300,
  PermissionDenied: 1400,
  ResourceNotFound: 2100,
  ResourceExists: 2110,
  QuotaExceeded: 2500,
  InternalError: 5000,
  ServerBusy: 5100,
} as const;

function retCodeOf(err: unknown): number | undefined {
  return err instanceof IaasError ? err.retCode : undefined;
}

/** True for ret_code 2100 and for any API error whose message says `ResourceNotFound`. */
export function isNotFound(err: unknown): boolean {
  return err instanceof IaasError && (err.retCode === RetCode.ResourceNotFound || err.serverMessage.includes('ResourceNotFound'));
}
export const isPermissionDenied = (err: unknown): boolean => retCodeOf(err) === RetCode.PermissionDenied;
export const isQuotaExceeded = (err: unknown): boolean => retCodeOf(err) === RetCode.QuotaExceeded;
export const isServerBusy = (err: unknown): boolean => retCodeOf(err) === RetCode.ServerBusy;
export const isAuthFailure = (err: unknown): boolean =>
  retCodeOf(err) === RetCode.AuthFailed || retCodeOf(err) === RetCode.MessageExpired;
