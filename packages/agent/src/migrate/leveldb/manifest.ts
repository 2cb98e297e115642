/**
 * The manifest: a log of version edits saying which table files are live at which level and which
 * write-ahead logs still hold unflushed writes. Reading it (rather than every file in the directory) keeps a
 * table left behind by an interrupted compaction from bringing back keys that were deleted since.
 *
 * @packageDocumentation
 */

import { ByteCursor } from './bytes.ts';

const COMPARATOR = 1;
const LOG_NUMBER = 2;
const NEXT_FILE_NUMBER = 3;
const LAST_SEQUENCE = 4;
const COMPACT_POINTER = 5;
const DELETED_FILE = 6;
const NEW_FILE = 7;
const PREV_LOG_NUMBER = 9;

export interface ManifestState {
  comparator: string | undefined;
  /** Logs numbered at or above this one (or equal to `prevLogNumber`) hold writes not yet in a table. */
  logNumber: number;
  prevLogNumber: number;
  /** Live table file numbers. */
  tables: Set<number>;
}

/** Applies the manifest's version edits, in order. Throws `RangeError` on an edit it cannot parse. */
export function applyVersionEdits(edits: Uint8Array[]): ManifestState {
  const state: ManifestState = { comparator: undefined, logNumber: 0, prevLogNumber: 0, tables: new Set() };
  for (const edit of edits) {
    const c = new ByteCursor(edit);
    while (c.remaining > 0) {
      const tag = c.varint();
      switch (tag) {
        case COMPARATOR:
          state.comparator = Buffer.from(c.lengthPrefixed()).toString('utf8');
          break;
        case LOG_NUMBER:
          state.logNumber = c.varint();
          break;
        case PREV_LOG_NUMBER:
          state.prevLogNumber = c.varint();
          break;
        case NEXT_FILE_NUMBER:
        case LAST_SEQUENCE:
          c.varint();
          break;
        case COMPACT_POINTER:
          c.varint();
          c.lengthPrefixed();
          break;
        case DELETED_FILE:
          c.varint();
          state.tables.delete(c.varint());
          break;
        case NEW_FILE: {
          c.varint(); // level
          const number = c.varint();
          c.varint(); // size
          c.lengthPrefixed(); // smallest key
          c.lengthPrefixed(); // largest key
          state.tables.add(number);
          break;
        }
        default:
          throw new RangeError(`unknown version edit tag ${tag}`);
      }
    }
  }
  return state;
}
