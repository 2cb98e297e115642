import { createHmac } from 'node:crypto';
import { percentEncode } from './encode.ts';

export type SignatureMethod = 'HmacSHA256' | 'HmacSHA1';
export type HttpMethod = 'GET' | 'POST';

export const SIGNATURE_VERSION = '1';

export interface SignRequestInput {
  method: HttpMethod;
  /** The request path exactly as sent, e.g. `/iaas`; it is part of the string to sign. */
  path: string;
  /** Every parameter that goes on the wire except `signature`. */
  params: Readonly<Record<string, string>>;
  secretAccessKey: string;
  /** Defaults to the method named by `params.signature_method`, else HmacSHA256. */
  signatureMethod?: SignatureMethod;
}

export interface SignedRequest {
  /** Sorted `name=value` pairs joined with `&`: the query (GET) or body (POST) before `&signature=`. */
  canonicalQuery: string;
  stringToSign: string;
  /** Base64 of the HMAC, not URL-encoded. */
  signature: string;
}

export interface CanonicalQueryOptions {
  /**
   * Trim leading and trailing whitespace from values, as the Go SDK does before encoding. The client trims
   * (what it signs is what it sends); a server verifying a request must not, since it signs what it got.
   */
  trimValues?: boolean;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The canonical query: parameters except `signature`, sorted by name in plain byte order, encoded. */
export function canonicalQuery(
  params: Readonly<Record<string, string>>,
  options: CanonicalQueryOptions = {},
): string {
  const trim = options.trimValues ?? true;
  return Object.keys(params)
    .filter((name) => name !== 'signature')
    .sort(byteOrder)
    .map((name) => {
      const raw = params[name] ?? '';
      return `${percentEncode(name)}=${percentEncode(trim ? raw.trim() : raw)}`;
    })
    .join('&');
}

export function stringToSign(method: HttpMethod, path: string, query: string): string {
  return `${method}\n${path}\n${query}`;
}

export function hmacBase64(method: SignatureMethod, secret: string, text: string): string {
  const algorithm = method === 'HmacSHA1' ? 'sha1' : 'sha256';
  return createHmac(algorithm, secret).update(text, 'utf8').digest('base64');
}

export function isSignatureMethod(value: string | undefined): value is SignatureMethod {
  return value === 'HmacSHA256' || value === 'HmacSHA1';
}

/**
 * Signs a QingCloud request. Pure: the caller supplies every parameter, including `time_stamp`,
 * `access_key_id`, `signature_method` and `signature_version` (see {@link withSignerParams}).
 */
export function signRequest(input: SignRequestInput): SignedRequest {
  const fromParams = input.params['signature_method'];
  const method = input.signatureMethod ?? (isSignatureMethod(fromParams) ? fromParams : 'HmacSHA256');
  const query = canonicalQuery(input.params);
  const text = stringToSign(input.method, input.path, query);
  return { canonicalQuery: query, stringToSign: text, signature: hmacBase64(method, input.secretAccessKey, text) };
}

/** `2013-08-27T14:30:10Z`: UTC, seconds precision, literal Z. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Parses a `time_stamp` value; undefined when it is not in QingCloud's format. */
export function parseTimestamp(value: string): Date | undefined {
  if (!TIMESTAMP_PATTERN.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Adds the parameters the signer owns. They override anything the caller put there, so a stray
 * `access_key_id` in an action's input can never change who signs the request.
 */
export function withSignerParams(
  params: Readonly<Record<string, string>>,
  accessKeyId: string,
  now: Date,
  signatureMethod: SignatureMethod = 'HmacSHA256',
): Record<string, string> {
  return {
    ...params,
    access_key_id: accessKeyId,
    signature_method: signatureMethod,
    signature_version: SIGNATURE_VERSION,
    time_stamp: formatTimestamp(now),
  };
}

/** The wire form: canonical query followed by the URL-encoded signature, last. */
export function encodeSignedQuery(signed: SignedRequest): string {
  return `${signed.canonicalQuery}&signature=${percentEncode(signed.signature)}`;
}
