/**
 * LevelDB's log format, used by both the write-ahead log (`NNNNNN.log`) and the manifest: 32 KiB blocks of
 * fragments (checksum, length, type), reassembled into records.
 *
 * @packageDocumentation
 */

import { crc32c, maskCrc } from './crc32c.ts';

const BLOCK_SIZE = 32768;
const HEADER_SIZE = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Why reading a log stopped early. */
export type LogTail = 'complete' | 'torn';

export interface LogRead {
  records: Uint8Array[];
  /**
   * `torn` when the file ends inside a record: the writer was killed mid-write. LevelDB drops such a record on
   * recovery (it was never acknowledged as durable), and so do we.
   */
  tail: LogTail;
}

/** A fragment that is damaged in a way a killed writer cannot explain. */
export class LogFormatError extends Error {
  override name = 'LogFormatError';
}

/** Reads every complete record of a log file's contents. */
export function readLogRecords(data: Uint8Array): LogRead {
  const records: Uint8Array[] = [];
  let pending: Uint8Array[] | undefined;
  let offset = 0;
  while (offset < data.length) {
    const leftInBlock = BLOCK_SIZE - (offset % BLOCK_SIZE);
    if (leftInBlock < HEADER_SIZE) {
      offset += leftInBlock; // a block trailer too short for a header is padding
      continue;
    }
    if (data.length - offset < HEADER_SIZE) return { records, tail: 'torn' };
    const view = new DataView(data.buffer, data.byteOffset + offset, HEADER_SIZE);
    const storedCrc = view.getUint32(0, true);
    const length = view.getUint16(4, true);
    const type = view.getUint8(6);
    if (type === 0 && length === 0 && storedCrc === 0) {
      offset += leftInBlock; // preallocated zeros: the rest of the block is unused
      continue;
    }
    const start = offset + HEADER_SIZE;
    if (start + length > data.length) return { records, tail: 'torn' };
    if (length > leftInBlock - HEADER_SIZE) throw new LogFormatError(`fragment at ${offset} crosses a block boundary`);
    const payload = data.subarray(start, start + length);
    if (maskCrc(crc32c(Uint8Array.of(type), payload)) !== storedCrc) {
      // A bad checksum on the very last fragment is a torn write; anywhere else it is damage.
      if (start + length === data.length) return { records, tail: 'torn' };
      throw new LogFormatError(`checksum mismatch in the fragment at ${offset}`);
    }
    offset = start + length;
    if (type === FULL) {
      if (pending) throw new LogFormatError(`a record at ${offset} starts inside another`);
      records.push(payload);
    } else if (type === FIRST) {
      if (pending) throw new LogFormatError(`a record at ${offset} starts inside another`);
      pending = [payload];
    } else if (type === MIDDLE || type === LAST) {
      if (!pending) throw new LogFormatError(`a fragment at ${offset} continues no record`);
      pending.push(payload);
      if (type === LAST) {
        records.push(concat(pending));
        pending = undefined;
      }
    } else {
      throw new LogFormatError(`unknown fragment type ${type} at ${offset}`);
    }
  }
  return { records, tail: pending ? 'torn' : 'complete' };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
