/**
 * Errors of the LevelDB reader. The reader is used once, to import the Go agent's records on an in-place
 * upgrade; a file it cannot read must stop the import with a message that names the file and what is wrong,
 * never yield a partial view that looks complete.
 *
 * @packageDocumentation
 */

/** A LevelDB file is damaged or not in a format this reader knows. */
export class LevelDbCorruptionError extends Error {
  override name = 'LevelDbCorruptionError';
  readonly file: string;
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`leveldb file ${file}: ${reason}`, options);
    this.file = file;
  }
}

/** The directory is not a LevelDB database (no CURRENT file, or CURRENT names no manifest). */
export class LevelDbNotFoundError extends Error {
  override name = 'LevelDbNotFoundError';
  readonly dir: string;
  constructor(dir: string, reason: string) {
    super(`no leveldb database in ${dir}: ${reason}`);
    this.dir = dir;
  }
}
