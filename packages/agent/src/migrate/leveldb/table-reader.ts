/**
 * LevelDB's sorted table files (`NNNNNN.ldb`, older `NNNNNN.sst`): a footer pointing at an index block whose
 * entries point at data blocks; blocks are prefix-compressed key/value runs, optionally Snappy-compressed,
 * each checksummed.
 *
 * @packageDocumentation
 */

import { ByteCursor } from './bytes.ts';
import { crc32c, maskCrc } from './crc32c.ts';
import { entryOfInternalKey, type Entry } from './entries.ts';
import { snappyDecompress } from './snappy.ts';

const FOOTER_SIZE = 48;
const MAGIC = 0xdb4775248b80fb57n;
const NO_COMPRESSION = 0;
const SNAPPY = 1;

interface BlockHandle {
  offset: number;
  size: number;
}

/** Every entry of a table, in the table's order. Throws `RangeError` on a malformed or damaged table. */
export function readTableEntries(file: Uint8Array): Entry[] {
  if (file.length < FOOTER_SIZE) throw new RangeError(`a table of ${file.length} bytes has no footer`);
  const footer = new ByteCursor(file, file.length - FOOTER_SIZE);
  footer.varint();
  footer.varint(); // the metaindex (filters): not needed to read every entry
  const index = { offset: footer.varint(), size: footer.varint() };
  if (new ByteCursor(file, file.length - 8).fixed64() !== MAGIC) throw new RangeError('bad table magic number');
  const entries: Entry[] = [];
  for (const [, handleBytes] of blockEntries(readBlock(file, index))) {
    const c = new ByteCursor(handleBytes);
    const data = readBlock(file, { offset: c.varint(), size: c.varint() });
    for (const [key, value] of blockEntries(data)) entries.push(entryOfInternalKey(key, value));
  }
  return entries;
}

function readBlock(file: Uint8Array, handle: BlockHandle): Uint8Array {
  const end = handle.offset + handle.size;
  if (end + 5 > file.length) throw new RangeError(`block at ${handle.offset} runs past the end of the table`);
  const contents = file.subarray(handle.offset, end);
  const type = file[end]!;
  const stored = new ByteCursor(file, end + 1).fixed32();
  if (maskCrc(crc32c(contents, Uint8Array.of(type))) !== stored) {
    throw new RangeError(`checksum mismatch in the block at ${handle.offset}`);
  }
  if (type === NO_COMPRESSION) return contents;
  if (type === SNAPPY) return snappyDecompress(contents);
  throw new RangeError(`unknown block compression ${type} at ${handle.offset}`);
}

/** The key/value pairs of one block, keys rebuilt from their shared prefixes. */
function* blockEntries(block: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
  if (block.length < 4) throw new RangeError('block too short');
  const restarts = new ByteCursor(block, block.length - 4).fixed32();
  const limit = block.length - 4 - 4 * restarts;
  if (limit < 0) throw new RangeError(`block claims ${restarts} restart points`);
  const c = new ByteCursor(block.subarray(0, limit));
  let key = new Uint8Array(0);
  while (c.remaining > 0) {
    const shared = c.varint();
    const unshared = c.varint();
    const valueLength = c.varint();
    if (shared > key.length) throw new RangeError(`entry shares ${shared} bytes of a ${key.length}-byte key`);
    const next = new Uint8Array(shared + unshared);
    next.set(key.subarray(0, shared));
    next.set(c.take(unshared), shared);
    key = next;
    yield [key, c.take(valueLength)];
  }
}
