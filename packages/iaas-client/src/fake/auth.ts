/** Request authentication, reusing the client's signing primitives (never a second implementation). */
import { canonicalQuery, hmacBase64, isSignatureMethod, parseTimestamp, SIGNATURE_VERSION, stringToSign } from '../sign.ts';
import type { HttpMethod } from '../sign.ts';
import { FakeApiError, badParam, missingParam } from './errors.ts';
import type { AccessKeyRecord } from './types.ts';

export type AuthResult =
  | { ok: true; key: AccessKeyRecord; stringToSign: string }
  | { ok: false; reason: string; stringToSign: string | null };

export function authenticate(
  params: Readonly<Record<string, string>>,
  method: HttpMethod,
  path: string,
  keys: ReadonlyMap<string, AccessKeyRecord>,
): AuthResult {
  const keyId = params['access_key_id'];
  if (!keyId) return { ok: false, reason: 'access_key_id is missing', stringToSign: null };
  const key = keys.get(keyId);
  if (key === undefined) return { ok: false, reason: `access_key_id [${keyId}] is unknown`, stringToSign: null };
  if (key.status !== 'active') return { ok: false, reason: `access_key_id [${keyId}] is ${key.status}`, stringToSign: null };
  const version = params['signature_version'];
  if (version !== SIGNATURE_VERSION) {
    return { ok: false, reason: `signature_version [${version ?? ''}] is not supported`, stringToSign: null };
  }
  const signatureMethod = params['signature_method'];
  if (!isSignatureMethod(signatureMethod)) {
    return { ok: false, reason: `signature_method [${signatureMethod ?? ''}] is not supported`, stringToSign: null };
  }
  const signature = params['signature'];
  if (!signature) return { ok: false, reason: 'signature is missing', stringToSign: null };
  // Values are signed as received: the client trims before sending, so the server must not trim again.
  const text = stringToSign(method, path, canonicalQuery(params, { trimValues: false }));
  const expected = hmacBase64(signatureMethod, key.secret_access_key, text);
  if (expected !== signature) return { ok: false, reason: 'signature does not match', stringToSign: text };
  return { ok: true, key, stringToSign: text };
}

/** `time_stamp` must be well formed (1100) and within the window around the server's now (1300). */
export function checkTimestamp(value: string | undefined, now: Date, windowSec: number): void {
  if (value === undefined || value === '') throw missingParam('time_stamp');
  const stamp = parseTimestamp(value);
  if (stamp === undefined) throw badParam(`time_stamp [${value}] should look like 2013-08-27T14:30:10Z`);
  if (windowSec > 0 && Math.abs(now.getTime() - stamp.getTime()) > windowSec * 1000) {
    throw new FakeApiError(1300, `time_stamp [${value}] is more than ${windowSec} seconds away from server time`);
  }
}
