/**
 * How the two lmdb writers commit. The claim ledger (one process, the agent) commits on lmdb's writer thread,
 * not on the event loop: a write has not committed when the call returns (a synchronous commit, with its
 * fsync, would have), it is in the environment when it resolves, and the writes of one turn keep their order
 * and their all-or-nothing. The store's engine, which several processes share, commits each write before the
 * call returns (see engine.ts for why), with its compare-and-swap and distinct revisions.
 */
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import type { ClaimEntry } from '../src/index.ts';
import { LmdbEngine } from '../src/stores/lmdb/engine.ts';
import { LmdbClaimLedger } from '../src/stores/lmdb/index.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs('hostnic-ipam-commit-');

function entry(address: string, pod?: string): ClaimEntry {
  return {
    address,
    addressWithPrefix: `${address}/26`,
    block: '4100-172-16-3-0-26',
    pool: 'vxnet-pods001',
    gateway: '172.16.3.1',
    assignment: pod === undefined ? undefined : { handleId: `default-${pod}`, namespace: 'default', pod, at: '2026-01-01T00:00:00.000Z' },
    releasedAt: undefined,
    published: false,
  };
}

async function withLedger(run: (ledger: LmdbClaimLedger) => Promise<void>): Promise<void> {
  const ledger = LmdbClaimLedger.open(await tempDir());
  try {
    await run(ledger);
  } finally {
    await ledger.close();
  }
}

async function withEngine(run: (engine: LmdbEngine) => Promise<void>): Promise<void> {
  const root = open({ path: await tempDir(), noSubdir: false });
  const engine = new LmdbEngine(
    root,
    root.openDB<unknown, string>({ name: 'objects', useVersions: true, encoding: 'json' }),
    root.openDB<unknown, string>({ name: 'meta', encoding: 'json' }),
  );
  try {
    await run(engine);
  } finally {
    await engine.close();
  }
}

describe('LmdbClaimLedger writes off the event loop', () => {
  it('a put has not committed when the call returns and has when it resolves', async () => {
    await withLedger(async (ledger) => {
      const written = ledger.put([entry('172.16.3.10', 'a')]);
      // load() reads before its first await: this is the environment as the put's call left it.
      const meanwhile = ledger.load();
      await written;
      expect(await meanwhile).toEqual([]);
      expect((await ledger.load()).map((e) => e.address)).toEqual(['172.16.3.10']);
    });
  });

  it('a remove has not committed when the call returns and has when it resolves', async () => {
    await withLedger(async (ledger) => {
      await ledger.put([entry('172.16.3.10'), entry('172.16.3.11')]);
      const removed = ledger.remove(['172.16.3.10']);
      const meanwhile = ledger.load();
      await removed;
      expect((await meanwhile).map((e) => e.address)).toEqual(['172.16.3.10', '172.16.3.11']);
      expect((await ledger.load()).map((e) => e.address)).toEqual(['172.16.3.11']);
    });
  });

  it('writes of one turn commit in call order: the later state of an address wins', async () => {
    await withLedger(async (ledger) => {
      const writes = [
        ledger.put([entry('172.16.3.10', 'a')]),
        ledger.put([{ ...entry('172.16.3.10'), releasedAt: '2026-01-01T00:01:00.000Z' }]),
        ledger.put([entry('172.16.3.10', 'b'), entry('172.16.3.11', 'c')]),
        ledger.remove(['172.16.3.11']),
      ];
      await Promise.all(writes);
      const entries = await ledger.load();
      expect(entries).toHaveLength(1);
      expect(entries[0]?.assignment?.pod).toBe('b');
    });
  });

  it('a write that fails writes none of its entries, and the other writes of its turn still commit', async () => {
    await withLedger(async (ledger) => {
      // JSON cannot encode a bigint: the second entry fails inside the transaction, after the first was put.
      const broken = { ...entry('172.16.3.11'), gateway: 1n } as unknown as ClaimEntry;
      const failed = ledger.put([entry('172.16.3.10', 'a'), broken]);
      const fine = ledger.put([entry('172.16.3.12', 'b')]);
      await expect(failed).rejects.toThrow(/BigInt/);
      await fine;
      expect((await ledger.load()).map((e) => e.address)).toEqual(['172.16.3.12']);
    });
  });
});

describe('LmdbEngine commits each write before the call returns', () => {
  it('a conditional put is in the environment as soon as the call returns', async () => {
    await withEngine(async (engine) => {
      const written = engine.put('IPPool', 'vxnet-a', { spec: { cidr: '172.16.3.0/24' } }, { absent: true });
      // get() reads before its first await: this is the environment as the put's call left it.
      const meanwhile = engine.get('IPPool', 'vxnet-a');
      const outcome = await written;
      expect(outcome.ok).toBe(true);
      const expected = { name: 'vxnet-a', value: { spec: { cidr: '172.16.3.0/24' } }, version: outcome.ok ? outcome.version : '' };
      expect(await meanwhile).toEqual(expected);
      expect(await engine.get('IPPool', 'vxnet-a')).toEqual(expected);
    });
  });

  it('keeps compare-and-swap for writes of one turn: one create wins, one update per version wins', async () => {
    await withEngine(async (engine) => {
      const creates = await Promise.all([1, 2, 3].map((i) => engine.put('IPAMBlock', 'b', { i }, { absent: true })));
      expect(creates.filter((o) => o.ok)).toHaveLength(1);
      expect(creates.filter((o) => !o.ok && o.reason === 'exists')).toHaveLength(2);
      const current = await engine.get('IPAMBlock', 'b');
      if (current === undefined) throw new Error('the create did not commit');
      const updates = await Promise.all([4, 5, 6].map((i) => engine.put('IPAMBlock', 'b', { i }, { version: current.version })));
      expect(updates.filter((o) => o.ok)).toHaveLength(1);
      expect(updates.filter((o) => !o.ok && o.reason === 'stale')).toHaveLength(2);
      const winner = updates.findIndex((o) => o.ok);
      expect((await engine.get('IPAMBlock', 'b'))?.value).toEqual({ i: 4 + winner });
    });
  });

  it('gives the writes of one turn distinct revisions, in call order', async () => {
    await withEngine(async (engine) => {
      const outcomes = await Promise.all(['a', 'b', 'c'].map((name) => engine.put('IPPool', name, {}, { absent: true })));
      const versions = outcomes.map((o) => (o.ok ? Number(o.version) : Number.NaN));
      expect(versions).toEqual([1, 2, 3]);
      const again = await engine.put('IPPool', 'a', { changed: true }, { version: '1' });
      expect(again).toEqual({ ok: true, version: '4' });
    });
  });

  it('a remove is done as soon as the call returns, and a stale one removes nothing', async () => {
    await withEngine(async (engine) => {
      const created = await engine.put('IPAMHandle', 'h', { block: 'b' }, { absent: true });
      if (!created.ok) throw new Error('the create failed');
      const stale = engine.remove('IPAMHandle', 'h', String(Number(created.version) + 1));
      const removed = engine.remove('IPAMHandle', 'h', created.version);
      const meanwhile = engine.get('IPAMHandle', 'h');
      expect(await stale).toEqual({ ok: false, reason: 'stale' });
      expect((await removed).ok).toBe(true);
      expect(await meanwhile).toBeUndefined();
      expect(await engine.get('IPAMHandle', 'h')).toBeUndefined();
    });
  });

  it('a write that throws leaves nothing, not even a revision bump', async () => {
    await withEngine(async (engine) => {
      // JSON cannot encode a bigint: the put fails inside the transaction, after the revision was bumped.
      await expect(engine.put('IPPool', 'broken', { n: 1n }, { absent: true })).rejects.toThrow(/BigInt/);
      expect(await engine.get('IPPool', 'broken')).toBeUndefined();
      expect(await engine.put('IPPool', 'fine', {}, { absent: true })).toEqual({ ok: true, version: '1' });
    });
  });
});
