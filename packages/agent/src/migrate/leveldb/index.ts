/**
 * A read-only LevelDB reader: enough to import the records the Go agent (hostnic-cni) kept with goleveldb
 * under /var/lib/hostnic. See docs/compatibility.md.
 *
 * @packageDocumentation
 */

export { readLevelDb, type LevelDbContents } from './read-db.ts';
export { LevelDbCorruptionError, LevelDbNotFoundError } from './errors.ts';
export { snappyDecompress } from './snappy.ts';
export { crc32c, maskCrc } from './crc32c.ts';
