/**
 * Errors of the lean Kubernetes client. An answer with an HTTP status is a {@link KubeApiError} whose numeric
 * `code` and Status `body` have the shape client-node's ApiException has, so that `httpStatusOf` and
 * `statusReasonOf` (runtime's and @hostnic/ipam's) read both alike. No answer at all is a
 * {@link KubeRequestError}, which has no numeric code: callers treat it as transient.
 */

/** The `Status` object the apiserver sends with a failure (or a watch ERROR event). */
export interface KubeStatus {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: unknown;
}

/** The apiserver answered with a status other than 2xx. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  /** The HTTP status (or the Status' code of a watch ERROR event). */
  readonly code: number;
  /** The Status the apiserver sent, or its text when it was not JSON. */
  readonly body: KubeStatus | string;
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, code: number, body: KubeStatus | string) {
    const detail = typeof body === 'string' ? body.slice(0, 200) : (body.message ?? body.reason ?? '');
    super(`${method} ${path}: HTTP ${code}${detail === '' ? '' : `: ${detail}`}`);
    this.code = code;
    this.body = body;
    this.method = method;
    this.path = path;
  }

  /** `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, ... when the body is a Status. */
  get reason(): string | undefined {
    return typeof this.body === 'string' ? undefined : this.body.reason;
  }
}

/** The request got no HTTP answer: connection refused or reset, TLS, timeout, abort. */
export class KubeRequestError extends Error {
  override name = 'KubeRequestError';
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, cause: unknown) {
    super(`${method} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.method = method;
    this.path = path;
  }
}

/** The apiserver sent a 2xx answer that is not the JSON asked for (or a watch line that does not parse). */
export class KubeDecodeError extends Error {
  override name = 'KubeDecodeError';

  constructor(message: string) {
    super(message);
  }
}

/** A kubeconfig (or in-cluster account) that cannot be used; the message names the field and the fix. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
  readonly field: string;

  constructor(field: string, message: string) {
    super(`kubeconfig ${field}: ${message}`);
    this.field = field;
  }
}
