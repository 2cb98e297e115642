/**
 * A cursor over a byte array with LevelDB's integer encodings: little-endian fixed32/fixed64 and base-128
 * varints. Every read is bounds-checked and reports running off the end as a `RangeError`, which the callers
 * turn into a corruption error naming the file.
 *
 * @packageDocumentation
 */

export class ByteCursor {
  readonly bytes: Uint8Array;
  offset: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  fixed32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  fixed64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  /** A varint of up to 64 bits, as a number: file numbers, sizes and offsets stay far below 2^53. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new RangeError('varint exceeds 2^53');
        return result;
      }
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  take(length: number): Uint8Array {
    this.need(length);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** A varint length followed by that many bytes. */
  lengthPrefixed(): Uint8Array {
    return this.take(this.varint());
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.length) {
      throw new RangeError(`needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`);
    }
  }
}
