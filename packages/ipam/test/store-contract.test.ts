import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { IpamStore } from '../src/index.ts';
import { MemoryIpamStore } from '../src/index.ts';
import { LmdbIpamStore } from '../src/stores/lmdb/index.ts';
import { storeContractCases } from '../src/testing/index.ts';

function contract(label: string, open: () => Promise<IpamStore>): void {
  describe(`store contract: ${label}`, () => {
    for (const c of storeContractCases()) {
      it(c.name, async () => {
        const store = await open();
        try {
          await c.run(store);
        } finally {
          await store.close();
        }
      });
    }
  });
}

contract('memory', async () => new MemoryIpamStore());

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
contract('lmdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-ipam-contract-'));
  dirs.push(dir);
  return LmdbIpamStore.open(dir);
});
