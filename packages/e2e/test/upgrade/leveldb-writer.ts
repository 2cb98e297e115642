/**
 * A test-only LevelDB writer: the smallest database goleveldb (and the agent's reader) accepts, i.e. a CURRENT
 * file, a manifest with one version edit and a write-ahead log holding one write batch per key. This is what
 * the Go agent's /var/lib/hostnic looks like before its first compaction. No native addon is needed to lay out
 * an upgrade test's node.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 32_768;
const HEADER = 7;
const [FULL, FIRST, MIDDLE, LAST] = [1, 2, 3, 4] as const;

/** CRC-32C, bit by bit (a test writes a few hundred bytes). */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB stores CRCs masked so that a CRC inside checksummed data does not look like one. */
function masked(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function lengthPrefixed(bytes: Uint8Array): number[] {
  return [...varint(bytes.length), ...bytes];
}

/** Frames records into 32 KiB blocks as LevelDB's log format does (fragments across block ends). */
export function logFile(records: readonly Uint8Array[]): Buffer {
  const out: number[] = [];
  for (const record of records) {
    let at = 0;
    let first = true;
    do {
      const left = BLOCK - (out.length % BLOCK);
      if (left < HEADER) {
        out.push(...new Array<number>(left).fill(0));
        continue;
      }
      const size = Math.min(left - HEADER, record.length - at);
      const last = at + size === record.length;
      const type = first && last ? FULL : first ? FIRST : last ? LAST : MIDDLE;
      const payload = record.subarray(at, at + size);
      const header = Buffer.alloc(HEADER);
      header.writeUInt32LE(masked(crc32c(Buffer.concat([Uint8Array.of(type), payload]))), 0);
      header.writeUInt16LE(size, 4);
      header.writeUInt8(type, 6);
      out.push(...header, ...payload);
      at += size;
      first = false;
    } while (at < record.length);
  }
  return Buffer.from(out);
}

/** One write batch putting `key` = `value` at `sequence`. */
function putBatch(sequence: number, key: string, value: string): Uint8Array {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(sequence), 0);
  head.writeUInt32LE(1, 8);
  return Buffer.from([...head, 1, ...lengthPrefixed(Buffer.from(key)), ...lengthPrefixed(Buffer.from(value))]);
}

/** Writes `records` (key → value, as strings) as a fresh LevelDB in `dir`. */
export async function writeLevelDb(dir: string, records: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const batches = [...records].map(([k, v], i) => putBatch(i + 1, k, v));
  const edit = Uint8Array.from([
    ...varint(1), ...lengthPrefixed(Buffer.from('leveldb.BytewiseComparator')),
    ...varint(2), ...varint(3), // log number: 000003.log holds the writes
    ...varint(3), ...varint(4), // next file number
    ...varint(4), ...varint(batches.length), // last sequence
  ]);
  await writeFile(join(dir, 'MANIFEST-000002'), logFile([edit]));
  await writeFile(join(dir, '000003.log'), logFile(batches));
  await writeFile(join(dir, 'CURRENT'), 'MANIFEST-000002\n');
}
