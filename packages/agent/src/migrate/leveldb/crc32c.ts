/**
 * CRC-32C (Castagnoli), as LevelDB checksums its log records and table blocks, and LevelDB's "mask" that
 * keeps a CRC stored inside data from being mistaken for the CRC of that data. Node's zlib has only the IEEE
 * polynomial.
 *
 * @packageDocumentation
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of the given byte ranges, in order (LevelDB checksums a type byte together with a payload). */
export function crc32c(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB's masked form of a CRC (rotate right by 15, add a constant). */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
