/**
 * The HTTP status of a failed Kubernetes request. `KubeApiError` (and client-node's `ApiException`, which
 * ipam's client-node adapter throws) carry a numeric `code`; errors with `statusCode` are read too; Node's
 * own network errors carry a string `code` (ECONNREFUSED) and therefore yield undefined.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  for (const field of ['code', 'statusCode'] as const) {
    const value: unknown = (error as Record<string, unknown>)[field];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return httpStatusOf(error) === 404;
}

/** 409 covers both a stale resourceVersion (Conflict) and a create that lost the race (AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return httpStatusOf(error) === 409;
}

/** A one-line description for logs: ApiException messages embed whole response bodies and headers. */
export function describeError(error: unknown): string {
  const status = httpStatusOf(error);
  if (status !== undefined && typeof error === 'object' && error !== null) {
    const body: unknown = (error as Record<string, unknown>)['body'];
    const message = statusMessage(body);
    return message === undefined ? `HTTP ${status}` : `HTTP ${status}: ${message}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body === '' ? undefined : body.slice(0, 200);
    }
  }
  if (typeof value === 'object' && value !== null) {
    const message: unknown = (value as Record<string, unknown>)['message'];
    if (typeof message === 'string') return message;
  }
  return undefined;
}
