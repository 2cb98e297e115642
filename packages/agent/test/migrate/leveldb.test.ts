/**
 * The pure-JS LevelDB reader against databases written by real LevelDB (classic-level, Google's C++ LevelDB,
 * whose file formats goleveldb shares): write-ahead log only, flushed and compacted tables with Snappy,
 * deletions, a torn last write, damage.
 */
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LevelDbCorruptionError, LevelDbNotFoundError, readLevelDb, snappyDecompress,
} from '../../src/migrate/leveldb/index.ts';

type Db = ClassicLevel<Buffer, Buffer>;
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function freshDb(options: { writeBufferSize?: number } = {}): Promise<{ dir: string; db: Db }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-leveldb-'));
  dirs.push(dir);
  const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', ...options });
  await db.open();
  return { dir, db };
}

/** What LevelDB itself says the database holds, as `key -> value` strings. */
async function truth(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [k, v] of db.iterator()) out[k.toString('latin1')] = v.toString('latin1');
  return out;
}

async function read(dir: string): Promise<Record<string, string>> {
  const { records } = await readLevelDb(dir);
  return Object.fromEntries(records.map((r) => [Buffer.from(r.key).toString('latin1'), Buffer.from(r.value).toString('latin1')]));
}

/** A record as the Go agent wrote it: the vxnet id as key, Go's JSON of the NIC and its pods as value. */
function goRecord(i: number): [string, string] {
  const vxnet = `vxnet-${i.toString(16).padStart(7, '0')}`;
  return [vxnet, JSON.stringify({
    Nic: { VxNet: { ID: vxnet, Gateway: '172.22.0.1', Network: '172.22.0.0/24', TunnelType: 'vxlan' },
      ID: `52:54:9e:d0:dd:${(i % 256).toString(16).padStart(2, '0')}`, Reserved: true, RouteTableNum: 260 + i, Phase: 4 },
    Pods: { [`c${i}`.repeat(8)]: { Name: `web-${i}`, Namespace: 'default', PodIP: `172.22.0.${i % 250}`, VxNet: vxnet } },
  })];
}

describe('readLevelDb', () => {
  it('reads writes that are still only in the write-ahead log', async () => {
    const { dir, db } = await freshDb();
    for (let i = 0; i < 5; i++) {
      const [k, v] = goRecord(i);
      await db.put(Buffer.from(k), Buffer.from(v));
    }
    await db.del(Buffer.from(goRecord(2)[0]));
    const expected = await truth(db);
    await db.close();
    expect(Object.keys(expected)).toHaveLength(4);
    expect(await read(dir)).toEqual(expected);
  });

  it('reads flushed and compacted Snappy tables, overwrites and deletions across tables and the log', async () => {
    const { dir, db } = await freshDb({ writeBufferSize: 64 * 1024 });
    // Seeded, so a failure replays: puts, overwrites and deletes over 300 keys, with compactions between.
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 400; i++) {
        const [k, v] = goRecord(next(300));
        if (next(5) === 0) await db.del(Buffer.from(k));
        else await db.put(Buffer.from(k), Buffer.from(v + 'x'.repeat(next(400))));
      }
      if (round % 2 === 0) await db.compactRange(Buffer.from(''), Buffer.from('\xff', 'latin1'));
    }
    const expected = await truth(db);
    await db.close();
    const names = await readdir(dir);
    expect(names.some((n) => n.endsWith('.ldb') || n.endsWith('.sst'))).toBe(true);
    expect(await read(dir)).toEqual(expected);
  });

  it('drops a write cut off by a killed writer, as LevelDB does, and says so', async () => {
    const { dir, db } = await freshDb();
    await db.put(Buffer.from('vxnet-a'), Buffer.from('first'));
    await db.put(Buffer.from('vxnet-b'), Buffer.from('second'));
    await db.close();
    const log = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().at(-1)!;
    const size = (await readFile(join(dir, log))).length;
    await truncate(join(dir, log), size - 3);
    const contents = await readLevelDb(dir);
    expect(contents.tornWrite).toBe(true);
    expect(contents.records.map((r) => Buffer.from(r.key).toString())).toEqual(['vxnet-a']);
  });

  it('refuses a damaged table, naming the file', async () => {
    const { dir, db } = await freshDb();
    for (let i = 0; i < 50; i++) await db.put(Buffer.from(goRecord(i)[0]), Buffer.from(goRecord(i)[1]));
    await db.compactRange(Buffer.from(''), Buffer.from('\xff', 'latin1'));
    await db.close();
    const table = (await readdir(dir)).find((n) => n.endsWith('.ldb') || n.endsWith('.sst'))!;
    const bytes = await readFile(join(dir, table));
    bytes[10] = bytes[10]! ^ 0xff;
    await writeFile(join(dir, table), bytes);
    const err = await readLevelDb(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LevelDbCorruptionError);
    expect((err as LevelDbCorruptionError).file).toBe(join(dir, table));
    expect((err as Error).message).toMatch(/checksum mismatch/);
  });

  it('tells a directory without a database apart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostnic-leveldb-'));
    dirs.push(dir);
    await expect(readLevelDb(dir)).rejects.toBeInstanceOf(LevelDbNotFoundError);
    await expect(readLevelDb(join(dir, 'absent'))).rejects.toThrow(/no such directory/);
    await writeFile(join(dir, 'CURRENT'), 'MANIFEST-000009\n');
    await expect(readLevelDb(dir)).rejects.toThrow(/not a manifest here/);
  });
});

describe('snappyDecompress', () => {
  it('expands literals and overlapping copies', () => {
    // "abcabcabcabc": literal "abc" (tag 2<<2), then a copy of 9 bytes at offset 3 (1-byte-offset form).
    const block = Uint8Array.of(12, 2 << 2, 0x61, 0x62, 0x63, ((9 - 4) << 2) | 1, 3);
    expect(Buffer.from(snappyDecompress(block)).toString()).toBe('abcabcabcabc');
  });

  it('refuses a copy reaching before the start', () => {
    expect(() => snappyDecompress(Uint8Array.of(8, ((8 - 4) << 2) | 1, 1))).toThrow(RangeError);
  });
});
