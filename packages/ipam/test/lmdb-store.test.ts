import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { Ipam, StoreIncompatibleError } from '../src/index.ts';
import { LMDB_SCHEMA_VERSION, LmdbIpamStore } from '../src/stores/lmdb/index.ts';
import { B, examplePool, mapping, pod } from './ipam-helpers.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs('hostnic-ipam-lmdb-');

describe('lmdb store', () => {
  it('keeps allocations across reopen, also at a path with a dot (always a directory)', async () => {
    const path = join(await tempDir(), 'ipam.db');
    const first = LmdbIpamStore.open(path);
    const ipam = new Ipam(first);
    await ipam.ensurePool(examplePool());
    await first.setIpamConfig(mapping({ default: [B(0)] }));
    const a = await ipam.allocate(pod('h1'));
    await first.close();
    const again = LmdbIpamStore.open(path);
    try {
      expect(await new Ipam(again).addressesOf('h1')).toEqual([{ address: a.address, addressWithPrefix: a.addressWithPrefix, block: B(0), pool: a.pool }]);
      expect(again.path).toBe(path);
    } finally {
      await again.close();
    }
  });

  it('stamps the schema version and refuses data of a newer schema', async () => {
    const path = await tempDir();
    await LmdbIpamStore.open(path).close();
    const raw = open({ path, noSubdir: false });
    const meta = raw.openDB<unknown, string>({ name: 'meta', encoding: 'json' });
    expect(meta.get('schema')).toBe(LMDB_SCHEMA_VERSION);
    meta.putSync('schema', LMDB_SCHEMA_VERSION + 1);
    await raw.close();
    expect(() => LmdbIpamStore.open(path)).toThrow(StoreIncompatibleError);
  });
});
