/**
 * Snappy decompression (the raw block format). LevelDB compresses table blocks with Snappy by default, as the
 * Go agent's goleveldb did; the format is small enough that a native addon on every node is not worth it.
 *
 * @packageDocumentation
 */

import { ByteCursor } from './bytes.ts';

/** Decompresses one raw Snappy block. Throws `RangeError` on any malformed input. */
export function snappyDecompress(input: Uint8Array): Uint8Array {
  const c = new ByteCursor(input);
  const length = c.varint();
  const out = new Uint8Array(length);
  let pos = 0;
  while (c.remaining > 0) {
    const tag = c.byte();
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        len = 0;
        for (let i = 0; i < extra; i++) len |= c.byte() << (8 * i);
        len >>>= 0;
      }
      len += 1;
      if (pos + len > length) throw new RangeError('snappy literal runs past the declared length');
      out.set(c.take(len), pos);
      pos += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | c.byte();
    } else if (kind === 2) {
      len = (tag >>> 2) + 1;
      offset = c.byte() | (c.byte() << 8);
    } else {
      len = (tag >>> 2) + 1;
      offset = c.fixed32();
    }
    if (offset === 0 || offset > pos) throw new RangeError(`snappy copy offset ${offset} at ${pos} is out of range`);
    if (pos + len > length) throw new RangeError('snappy copy runs past the declared length');
    // Byte by byte: a copy may overlap the bytes it produces (run-length encoding).
    for (let i = 0; i < len; i++, pos++) out[pos] = out[pos - offset]!;
  }
  if (pos !== length) throw new RangeError(`snappy block declares ${length} bytes but holds ${pos}`);
  return out;
}
