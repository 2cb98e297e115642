/**
 * Values are stored as UTF-8 JSON bytes, and lmdb is opened with `encoding: 'binary'`: decoding is ours, so a
 * value that is not JSON fails for that one key instead of throwing out of lmdb in the middle of a range scan.
 *
 * @packageDocumentation
 */
import type { Checked } from './records.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The stored bytes of a value. */
export function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses stored bytes; never throws. */
export function decode(raw: unknown): Checked<unknown> {
  if (!(raw instanceof Uint8Array)) return { ok: false, reason: 'value is not a byte string' };
  let json: string;
  try {
    json = strictUtf8.decode(raw);
  } catch {
    return { ok: false, reason: 'value is not UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch (error) {
    return { ok: false, reason: `value is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}
