/**
 * Reads a whole LevelDB database directory, as it was left by the process that wrote it (which must have
 * stopped: the reader takes no lock and follows no concurrent writer). Pure JavaScript, so that nodes need
 * no native addon to import the Go agent's records.
 *
 * @packageDocumentation
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { entriesOfWriteBatch, newestValues, type Entry } from './entries.ts';
import { LevelDbCorruptionError, LevelDbNotFoundError } from './errors.ts';
import { readLogRecords, type LogTail } from './log-reader.ts';
import { applyVersionEdits } from './manifest.ts';
import { readTableEntries } from './table-reader.ts';

const BYTEWISE = 'leveldb.BytewiseComparator';

export interface LevelDbContents {
  /** The live keys and their values, sorted bytewise. */
  records: Array<{ key: Uint8Array; value: Uint8Array }>;
  /** The files read, for the log of an import. */
  files: string[];
  /** True when the newest log ended inside a write: that write was lost with the writer, as LevelDB would drop it. */
  tornWrite: boolean;
}

/** Reads the database in `dir`. Throws `LevelDbNotFoundError` when there is none, `LevelDbCorruptionError` on damage. */
export async function readLevelDb(dir: string): Promise<LevelDbContents> {
  const names = await listDir(dir);
  if (!names.includes('CURRENT')) throw new LevelDbNotFoundError(dir, 'no CURRENT file');
  const manifestName = (await readFile(join(dir, 'CURRENT'), 'utf8')).trim();
  if (!/^MANIFEST-\d+$/.test(manifestName) || !names.includes(manifestName)) {
    throw new LevelDbNotFoundError(dir, `CURRENT names ${JSON.stringify(manifestName)}, which is not a manifest here`);
  }
  const state = await parse(dir, manifestName, (bytes) => applyVersionEdits(readLogRecords(bytes).records));
  if (state.comparator !== undefined && state.comparator !== BYTEWISE) {
    throw new LevelDbCorruptionError(join(dir, manifestName), `comparator ${state.comparator} is not ${BYTEWISE}`);
  }

  const entries: Entry[] = [];
  const files: string[] = [manifestName];
  for (const number of [...state.tables].sort((a, b) => a - b)) {
    const name = tableFileName(names, number);
    if (!name) throw new LevelDbCorruptionError(join(dir, fileNumber(number)), 'a live table is missing');
    entries.push(...(await parse(dir, name, readTableEntries)));
    files.push(name);
  }

  const logs = names
    .map((n) => /^(\d+)\.log$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], number: Number(m[1]) }))
    .filter((l) => l.number >= state.logNumber || (state.prevLogNumber !== 0 && l.number === state.prevLogNumber))
    .sort((a, b) => a.number - b.number);
  let tail: LogTail = 'complete';
  for (const [i, log] of logs.entries()) {
    const read = await parse(dir, log.name, readLogRecords);
    // Only the newest log can have been cut off by a killed writer; an older one was closed cleanly.
    if (read.tail === 'torn' && i !== logs.length - 1) {
      throw new LevelDbCorruptionError(join(dir, log.name), 'an older log ends inside a record');
    }
    tail = read.tail;
    for (const batch of read.records) entries.push(...named(join(dir, log.name), () => entriesOfWriteBatch(batch)));
    files.push(log.name);
  }
  return { records: newestValues(entries), files, tornWrite: tail === 'torn' };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LevelDbNotFoundError(dir, 'no such directory');
    throw err;
  }
}

/** Reads a file and runs a parser over it, naming the file in any error. */
async function parse<T>(dir: string, name: string, fn: (bytes: Uint8Array) => T): Promise<T> {
  const path = join(dir, name);
  const data = new Uint8Array(await readFile(path));
  return named(path, () => fn(data));
}

function named<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LevelDbCorruptionError) throw err;
    throw new LevelDbCorruptionError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function fileNumber(n: number): string {
  return String(n).padStart(6, '0');
}

function tableFileName(names: string[], number: number): string | undefined {
  const base = fileNumber(number);
  return names.find((n) => n === `${base}.ldb` || n === `${base}.sst`);
}
