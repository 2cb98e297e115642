/**
 * The entries LevelDB stores, wherever they come from: a user key, the sequence number of the write, and
 * either a value or a deletion. The newest sequence of a key decides what the key holds.
 *
 * @packageDocumentation
 */

import { ByteCursor } from './bytes.ts';

export interface Entry {
  key: Uint8Array;
  sequence: bigint;
  /** undefined for a deletion (a tombstone). */
  value: Uint8Array | undefined;
}

const TYPE_DELETION = 0;
const TYPE_VALUE = 1;

/** Splits a table's internal key (user key + 8-byte `sequence << 8 | type`) and pairs it with its value. */
export function entryOfInternalKey(internalKey: Uint8Array, value: Uint8Array): Entry {
  if (internalKey.length < 8) throw new RangeError(`internal key of ${internalKey.length} bytes`);
  const trailer = new ByteCursor(internalKey, internalKey.length - 8).fixed64();
  const type = Number(trailer & 0xffn);
  if (type !== TYPE_VALUE && type !== TYPE_DELETION) throw new RangeError(`unknown entry type ${type}`);
  return {
    key: internalKey.subarray(0, internalKey.length - 8),
    sequence: trailer >> 8n,
    value: type === TYPE_VALUE ? value : undefined,
  };
}

/** The entries of one write batch, as the write-ahead log stores them (sequence, count, then the writes). */
export function entriesOfWriteBatch(batch: Uint8Array): Entry[] {
  const c = new ByteCursor(batch);
  const first = c.fixed64();
  const count = c.fixed32();
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const type = c.byte();
    const key = c.lengthPrefixed();
    if (type === TYPE_VALUE) entries.push({ key, sequence: first + BigInt(i), value: c.lengthPrefixed() });
    else if (type === TYPE_DELETION) entries.push({ key, sequence: first + BigInt(i), value: undefined });
    else throw new RangeError(`unknown write type ${type} in a batch`);
  }
  if (c.remaining !== 0) throw new RangeError(`${c.remaining} bytes after the ${count} writes of a batch`);
  return entries;
}

/** What each key holds after applying every entry by sequence; deleted keys are absent. Sorted bytewise. */
export function newestValues(entries: Iterable<Entry>): Array<{ key: Uint8Array; value: Uint8Array }> {
  const newest = new Map<string, Entry>();
  for (const e of entries) {
    const id = Buffer.from(e.key).toString('latin1');
    const seen = newest.get(id);
    if (!seen || seen.sequence < e.sequence) newest.set(id, e);
  }
  return [...newest.values()]
    .filter((e): e is Entry & { value: Uint8Array } => e.value !== undefined)
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((e) => ({ key: e.key, value: e.value }));
}
