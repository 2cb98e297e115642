/**
 * The lmdb environment of the datastore and its named databases (schema 1):
 *
 * | database     | key                        | value                          |
 * |--------------|----------------------------|--------------------------------|
 * | `meta`       | `schema`, `intentSeq`, `bootId` | JSON number / string      |
 * | `nics`       | NIC id (MAC, lower-case)   | NicRecord                      |
 * | `pods`       | `<containerId>/<ifName>`   | PodRecord                      |
 * | `tables`     | route table number         | RouteTableEntry                |
 * | `intents`    | intent id (zero-padded sequence, so key order = start order) | Intent |
 * | `quarantine` | `<database>/<key>`         | the bad bytes, moved aside     |
 *
 * Every value is JSON bytes (see codec.ts).
 *
 * @packageDocumentation
 */
import { mkdirSync } from 'node:fs';
import { open } from 'lmdb';
import type { Database, Key, RootDatabase } from 'lmdb';
import { DatastoreOpenError } from './errors.ts';

export type Db = Database<Buffer, Key>;

/** Names of the databases that hold records (checked and reported when read). */
export type RecordDbName = 'nics' | 'pods' | 'tables' | 'intents';

export interface Env {
  readonly root: RootDatabase<Buffer, Key>;
  readonly meta: Db;
  readonly nics: Db;
  readonly pods: Db;
  readonly tables: Db;
  readonly intents: Db;
  readonly quarantine: Db;
}

export interface EnvOptions {
  /** lmdb's `mapSize` in bytes; lmdb grows the map on demand when unset. */
  readonly mapSize?: number;
}

/** Creates the directory (0700: pod netns paths and container ids are not for other users) and opens lmdb. */
export function openEnv(dir: string, options: EnvOptions = {}): Env {
  let root: RootDatabase<Buffer, Key>;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // noSubdir: false — lmdb would take a directory whose name has a dot for a file.
    root = open<Buffer, Key>({
      path: dir,
      noSubdir: false,
      encoding: 'binary',
      ...(options.mapSize === undefined ? {} : { mapSize: options.mapSize }),
    });
  } catch (error) {
    throw new DatastoreOpenError(dir, { cause: error });
  }
  try {
    const db = (name: string): Db => root.openDB<Buffer, Key>({ name, encoding: 'binary' });
    return {
      root,
      meta: db('meta'),
      nics: db('nics'),
      pods: db('pods'),
      tables: db('tables'),
      intents: db('intents'),
      quarantine: db('quarantine'),
    };
  } catch (error) {
    void root.close();
    throw new DatastoreOpenError(dir, { cause: error });
  }
}
