import type { JsonObject } from './json.ts';

/** One entry of metav1.Status details.causes. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A failure that the server answers with a metav1.Status body. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

/** What a resource looks like in error messages: `pods` or `ippools.network.qingcloud.com`. */
export interface ResourceNaming {
  group: string;
  plural: string;
  kind: string;
}

function qualified(r: ResourceNaming): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

function groupDetail(r: ResourceNaming): { group?: string } {
  return r.group === '' ? {} : { group: r.group };
}

export function notFound(r: ResourceNaming, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, {
    name,
    ...groupDetail(r),
    kind: r.plural,
  });
}

export function alreadyExists(r: ResourceNaming, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, {
    name,
    ...groupDetail(r),
    kind: r.plural,
  });
}

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(r: ResourceNaming, name: string, why: string = STALE_OBJECT): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
    name,
    ...groupDetail(r),
    kind: r.plural,
  });
}

export function invalid(r: ResourceNaming, name: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${r.kind}${r.group ? `.${r.group}` : ''} "${name}" is invalid: ${joined}`, {
    name,
    ...groupDetail(r),
    kind: r.kind,
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {
    causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }],
  });
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function forbidden(r: ResourceNaming, name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualified(r)} "${name}" is forbidden: ${why}`, {
    name,
    ...groupDetail(r),
    kind: r.plural,
  });
}

/** An authorizer's 403: `message` is the whole text; the details name the resource as the apiserver's NewForbidden does. */
export function forbiddenRequest(r: ResourceNaming, name: string | undefined, message: string): ApiError {
  return new ApiError(403, 'Forbidden', message, {
    ...(name ? { name } : {}),
    ...groupDetail(r),
    kind: r.plural,
  });
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/json-patch+json (got ${contentType || 'none'})`);
}

/** The reason a real apiserver pairs with an HTTP code, for faults that only name the code. */
export function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 409: return 'Conflict';
    case 410: return 'Expired';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

export function errorForCode(code: number, message?: string): ApiError {
  const reason = reasonForCode(code);
  const details: StatusDetails | undefined = code === 429 || code === 503 ? { retryAfterSeconds: 1 } : undefined;
  return new ApiError(code, reason, message ?? `injected fault: ${reason}`, details);
}

export function statusBody(error: ApiError): JsonObject {
  const body: JsonObject = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    code: error.code,
  };
  if (error.details) {
    const details: JsonObject = {};
    const d = error.details;
    if (d.name !== undefined) details['name'] = d.name;
    if (d.group !== undefined) details['group'] = d.group;
    if (d.kind !== undefined) details['kind'] = d.kind;
    if (d.uid !== undefined) details['uid'] = d.uid;
    if (d.causes) {
      details['causes'] = d.causes.map((c) => {
        const cause: JsonObject = { reason: c.reason, message: c.message };
        if (c.field !== undefined) cause['field'] = c.field;
        return cause;
      });
    }
    if (d.retryAfterSeconds !== undefined) details['retryAfterSeconds'] = d.retryAfterSeconds;
    body['details'] = details;
  }
  return body;
}

export function successStatus(r: ResourceNaming, name: string, uid: string | undefined): JsonObject {
  const details: JsonObject = { name, kind: r.plural };
  if (r.group !== '') details['group'] = r.group;
  if (uid !== undefined) details['uid'] = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
