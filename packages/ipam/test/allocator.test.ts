import { describe, expect, it } from 'vitest';
import type { IPAMHandle } from '../src/index.ts';
import {
  AddressOutOfRangeError,
  checkConsistency,
  FixedIpCoolingDownError,
  FixedIpReservedError,
  FixedIpTakenError,
  InvalidAddressError,
  InvalidArgumentError,
  Ipam,
  IpamErrorCode,
  MaxRetriesError,
  MemoryIpamStore,
  newHandle,
  MappingRefusedError,
  NoPoolOrBlockError,
  NoQualifiedPoolError,
  nodeOffset,
  PoolExhaustedError,
  StoreUnavailableError,
} from '../src/index.ts';
import { at, deepFreeze, pool, T0 } from './helpers.ts';
import { B, examplePool, fill, mapping, pod, POOL, rig, seed, testOptions } from './ipam-helpers.ts';

async function snapshot(store: MemoryIpamStore) {
  const [pools, blocks, handles] = await Promise.all([store.listPools(), store.listBlocks(), store.listHandles()]);
  return { pools: pools.map((v) => v.object), blocks: blocks.map((v) => v.object), handles: handles.map((v) => v.object) };
}

/** The consistency check over the store, with every handle's pod alive. */
async function findings(store: MemoryIpamStore) {
  const s = await snapshot(store);
  return checkConsistency({ ...s, livePods: [], now: T0, graceMs: Number.MAX_SAFE_INTEGER }).findings.filter(
    (f) => f.kind !== 'DeadPodAllocation',
  );
}

describe('allocate', () => {
  it('takes the first free address of the namespace block and writes the handle, then the block (2 writes)', async () => {
    const r = await rig({ default: [B(0)] });
    const a = await r.ipam.allocate(pod('default-nginx-abc123'));
    expect(a).toEqual({
      address: '172.16.3.2',
      addressWithPrefix: '172.16.3.2/27',
      pool: POOL,
      block: B(0),
      gateway: '172.16.3.1',
      reused: false,
      fixed: false,
    });
    expect(r.writes.map((w) => `${w.kind} ${w.op} ${w.outcome}`)).toEqual(['IPAMHandle create ok', 'IPAMBlock update ok']);
    const handle = await r.store.getHandle('default-nginx-abc123');
    expect(handle?.object.spec).toEqual({ handleID: 'default-nginx-abc123', block: { '4100-172.16.3.0/27': 1 }, deleted: false });
    const block = (await r.store.getBlock(B(0)))?.object.spec;
    const row = block?.attributes[block.allocations[2] ?? -1];
    expect(row?.handle_id).toBe('default-nginx-abc123');
    expect(Object.keys(row?.secondary ?? {}).sort()).toEqual(['ip', 'namespace', 'node', 'pod', 'timestamp']);
    expect(row?.secondary?.ip).toBe('172.16.3.2');
  });

  it('hands out addresses in order: .2, .3, .4', async () => {
    const r = await rig({ default: [B(0)] });
    const got = [];
    for (const h of ['h1', 'h2', 'h3']) got.push((await r.ipam.allocate(pod(h))).address);
    expect(got).toEqual(['172.16.3.2', '172.16.3.3', '172.16.3.4']);
  });

  it('is idempotent: a repeated request returns the same address with no write', async () => {
    const r = await rig({ default: [B(0)] });
    const first = await r.ipam.allocate(pod('h1'));
    r.counter.reset();
    const again = await r.ipam.allocate(pod('h1'));
    expect(again).toEqual({ ...first, reused: true });
    expect(r.counter.writes()).toBe(0);
    const u = await r.ipam.utilisation();
    expect(u.blocks.find((b) => b.name === B(0))?.allocated).toBe(1);
  });

  it('two concurrent allocations on one block both succeed with different addresses via one conflict', async () => {
    const r = await rig({ default: [B(0)] });
    const [a, b] = await Promise.all([r.ipam.allocate(pod('h1')), r.ipam.allocate(pod('h2', 'default', 'node-2'))]);
    expect(a.address).not.toBe(b.address);
    expect([a.address, b.address].sort()).toEqual(['172.16.3.2', '172.16.3.3']);
    expect(r.counter.conflicts('allocate')).toBe(1);
    // The loser re-read the block and wrote it again; its handle write was not repeated.
    expect(r.writes.filter((w) => w.kind === 'IPAMBlock').map((w) => w.outcome).sort()).toEqual(['conflict', 'ok', 'ok']);
    expect(r.writes.filter((w) => w.kind === 'IPAMHandle')).toHaveLength(2);
    expect(await findings(r.store)).toEqual([]);
  });

  it('a store that always conflicts: exactly maxAttempts block updates, MaxRetriesError, new handle gone', async () => {
    const r = await rig({ default: [B(0)] });
    r.store.failWrites({ kind: 'IPAMBlock', op: 'update', times: Infinity });
    const error = await r.ipam.allocate(pod('h1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaxRetriesError);
    expect((error as Error).message.startsWith('Max retries hit - excessive concurrent IPAM requests')).toBe(true);
    expect((error as MaxRetriesError).code).toBe(IpamErrorCode.MaxRetries);
    expect(r.writes.filter((w) => w.kind === 'IPAMBlock' && w.op === 'update')).toHaveLength(100);
    expect(await r.store.getHandle('h1')).toBeUndefined();
    expect((await r.store.getBlock(B(0)))?.object.spec.unallocated).toHaveLength(30);
  });

  it('maxAttempts is configurable, and an existing handle is put back to its previous counts', async () => {
    const r = await rig({ default: [B(0)], other: [B(64)] }, { maxAttempts: 10 });
    await r.ipam.allocate(pod('h1', 'other'));
    const before = (await r.store.getHandle('h1'))?.object.spec;
    expect(before?.block).toEqual({ '4100-172.16.3.64/27': 1 });
    r.writes.length = 0;
    r.store.failWrites({ kind: 'IPAMBlock', op: 'update', times: Infinity });
    // The held address is not in the namespace's blocks, so a new one is wanted; every block write is lost.
    await expect(r.ipam.allocate(pod('h1'))).rejects.toBeInstanceOf(MaxRetriesError);
    expect(r.writes.filter((w) => w.kind === 'IPAMBlock')).toHaveLength(10);
    expect((await r.store.getHandle('h1'))?.object.spec).toEqual(before);
  });

  it('stale counts in a handle (a crash between the two writes) are corrected by its next handle write', async () => {
    const r = await rig({ default: [B(0)] });
    const stale: IPAMHandle = { ...newHandle('h1'), spec: { ...newHandle('h1').spec, block: { '4100-172.16.3.0/27': 1, '4100-172.16.3.64/27': 2 } } };
    await r.store.createHandle(stale);
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.reused).toBe(false);
    expect(r.counter.writes('allocate')).toBe(2);
    expect((await r.store.getHandle('h1'))?.object.spec.block).toEqual({ '4100-172.16.3.0/27': 1 });
    expect(await findings(r.store)).toEqual([]);
  });

  it('a non-conflict block write failure ends at once, handle restored, block unchanged', async () => {
    const r = await rig({ default: [B(0)] });
    const blockBefore = await r.store.getBlock(B(0));
    r.store.failWrites({ kind: 'IPAMBlock', op: 'update', error: 'unavailable' });
    await expect(r.ipam.allocate(pod('h1'))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(r.writes.filter((w) => w.kind === 'IPAMBlock')).toHaveLength(1);
    expect(r.writes.filter((w) => w.kind === 'IPAMHandle').map((w) => w.op)).toEqual(['create', 'delete']);
    expect(await r.store.getHandle('h1')).toBeUndefined();
    expect(await r.store.getBlock(B(0))).toEqual(blockBefore);
  });

  it('retries handle writes that lose a race', async () => {
    const r = await rig({ default: [B(0)] });
    r.store.failWrites({ kind: 'IPAMHandle', op: 'create', times: 2 });
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.address).toBe('172.16.3.2');
    expect(r.counter.conflicts('allocate')).toBe(2);
    expect(await findings(r.store)).toEqual([]);
  });

  it('passes over a full block without writing it, and moves on', async () => {
    const r = await rig({ default: [B(0), B(32)] });
    await fill(r.store, B(0));
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.block).toBe(B(32));
    expect(a.address).toBe('172.16.3.32');
    expect(r.writes.filter((w) => w.name === B(0))).toEqual([]);
    expect(r.counter.writes('allocate')).toBe(2);
  });

  it('a block that fills up under a lost race is re-read, left, and the next block used', async () => {
    const r = await rig({ default: [B(0), B(32)] });
    await fill(r.store, B(0), 1);
    const [a, b] = await Promise.all([r.ipam.allocate(pod('h1')), r.ipam.allocate(pod('h2'))]);
    expect([a.block, b.block].sort()).toEqual([B(0), B(32)]);
    expect(r.counter.conflicts('allocate')).toBe(1);
    // The loser moved its handle count to the other block in one handle write.
    const loser = a.block === B(32) ? 'h1' : 'h2';
    expect((await r.store.getHandle(loser))?.object.spec.block).toEqual({ '4100-172.16.3.32/27': 1 });
    expect(await findings(r.store)).toEqual([]);
  });

  it('exhaustion gives PoolExhaustedError naming the blocks, with no fallback to Default', async () => {
    const r = await rig({ Default: [POOL], test: [B(0)] });
    await fill(r.store, B(0));
    const error = await r.ipam.allocate(pod('h1', 'test')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect((error as PoolExhaustedError).searched).toEqual([B(0)]);
    expect(await r.store.getHandle('h1')).toBeUndefined();
    expect(r.counter.writes()).toBe(0);
    // A namespace without blocks uses the Default pool.
    expect((await r.ipam.allocate(pod('h2', 'other'))).pool).toBe(POOL);
  });

  it('auto mode ignores Default; unmapped namespaces fail with "pool or block not found"', async () => {
    const store = new MemoryIpamStore();
    await seed(store, {});
    await store.setIpamConfig(mapping({ Default: [POOL], test: [B(0)] }, true));
    const ipam = new Ipam(store, testOptions());
    const error = await ipam.allocate(pod('h1', 'other')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoPoolOrBlockError);
    expect((error as Error).message.startsWith('pool or block not found')).toBe(true);
    expect((await ipam.allocate(pod('h2', 'test'))).block).toBe(B(0));
  });

  it('a broken mapping keeps the last good one in force, and refuses where there is none', async () => {
    const store = new MemoryIpamStore();
    await seed(store, {});
    await store.setIpamConfig(mapping({ test: [B(0)] }, false));
    const seen: string[][] = [];
    const ipam = new Ipam(store, { ...testOptions(), onMappingProblems: (r) => seen.push(r.problems.map((p) => p.key)) });
    expect((await ipam.allocate(pod('h1', 'test'))).block).toBe(B(0));
    await store.setIpamConfig({ ipam: '{' });
    expect((await ipam.allocate(pod('h2', 'test'))).block).toBe(B(0));
    expect((await ipam.allocate(pod('h3', 'test'))).block).toBe(B(0));
    expect(seen).toEqual([['ipam']]); // reported once per change, not per allocation
    const fresh = new Ipam(store, testOptions());
    const error = await fresh.allocate(pod('h4', 'test')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingRefusedError);
    expect((error as Error).message).toMatch(/namespace test: its entry .* is refused \(ipam format error: ipam is not valid JSON/);
  });

  it('a missing ConfigMap means nothing is mapped', async () => {
    const store = new MemoryIpamStore();
    await new Ipam(store).ensurePool(examplePool());
    await expect(new Ipam(store, testOptions()).allocate(pod('h1'))).rejects.toBeInstanceOf(NoPoolOrBlockError);
  });

  it('skips mapped blocks that are missing, marked deleted, or whose pool is disabled', async () => {
    const r = await rig({ default: ['4100-172-16-9-0-27', B(0), B(32)] });
    const b0 = await r.store.getBlock(B(0));
    if (b0 === undefined) throw new Error('seed');
    await r.store.updateBlock({ ...b0.object, spec: { ...b0.object.spec, deleted: true } }, b0.version);
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.block).toBe(B(32));
    expect(await r.store.getBlock(B(0))).toBeUndefined();

    const pool = await r.store.getPool(POOL);
    if (pool === undefined) throw new Error('seed');
    await r.store.updatePool({ ...pool.object, spec: { ...pool.object.spec, disabled: true } }, pool.version);
    const error = await r.ipam.allocate(pod('h2')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoQualifiedPoolError);
    expect((error as Error).message.startsWith('cannot find a qualified ippool')).toBe(true);
  });

  it('a handle marked deleted by the Go version counts as absent', async () => {
    const r = await rig({ default: [B(0)] });
    const marked = newHandle('h1');
    await r.store.createHandle({ ...marked, spec: { ...marked.spec, block: { '4100-172.16.3.0/27': 1 }, deleted: true } });
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.reused).toBe(false);
    expect((await r.store.getHandle('h1'))?.object.spec).toEqual({ handleID: 'h1', block: { '4100-172.16.3.0/27': 1 }, deleted: false });
  });

  it('validates the request', async () => {
    const r = await rig();
    await expect(r.ipam.allocate(pod('Bad_Handle'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.ipam.allocate(pod('kubesphere-reserved-handle'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.ipam.allocate({ ...pod('h1'), namespace: 'Bad' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.ipam.allocate({ ...pod('h1'), node: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.400'] })).rejects.toBeInstanceOf(InvalidAddressError);
    expect(() => new Ipam(r.store, { maxAttempts: 0 })).toThrow(InvalidArgumentError);
    expect(r.counter.writes()).toBe(0);
  });

  it('stores extra attributes, with namespace/pod/node taking precedence', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate({ ...pod('h1'), attributes: { 'workload-type': 'deployment', pod: 'spoofed' } });
    const spec = (await r.store.getBlock(B(0)))?.object.spec;
    const row = spec?.attributes[spec.allocations[2] ?? -1];
    expect(row?.secondary?.['workload-type']).toBe('deployment');
    expect(row?.secondary?.pod).toBe('h1');
  });
});

describe('node spread over pool blocks', () => {
  const nodes = ['node-1', 'node-2', 'node-3', 'node-4'];

  it('each node starts at its own offset among the pool blocks', async () => {
    const r = await rig({ Default: [POOL] });
    const starts = [0, 32, 64, 96, 128, 160, 192, 224];
    for (const node of nodes) {
      const a = await r.ipam.allocate(pod(`h-${node}`, 'default', node));
      expect(a.block).toBe(B(starts[nodeOffset(node, 8)] ?? -1));
    }
  });

  it('nodes on different start blocks allocate concurrently without conflicts, 2 writes each', async () => {
    const r = await rig({ Default: [POOL] });
    const distinct = nodes.filter((n, i) => nodes.findIndex((m) => nodeOffset(m, 8) === nodeOffset(n, 8)) === i);
    expect(distinct.length).toBeGreaterThan(1);
    await Promise.all(distinct.map((node) => r.ipam.allocate(pod(`h-${node}`, 'default', node))));
    expect(r.counter.conflicts()).toBe(0);
    expect(r.counter.writes('allocate')).toBe(2 * distinct.length);
  });

  it('a node whose start block is full moves on to the next block', async () => {
    const r = await rig({ Default: [POOL] });
    const starts = [0, 32, 64, 96, 128, 160, 192, 224];
    const offset = nodeOffset('node-1', 8);
    await fill(r.store, B(starts[offset] ?? -1));
    const a = await r.ipam.allocate(pod('h1'));
    expect(a.block).toBe(B(starts[(offset + 1) % 8] ?? -1));
  });
});

describe('reads per allocation from a pool', () => {
  it('one block read when the start block has room; a nearly full pool costs a bounded scan and one list', async () => {
    const store = new MemoryIpamStore();
    const big = pool('vxnet-big', '10.0.0.0/22', '10.0.0.2', '10.0.3.250', 28);
    await new Ipam(store).ensurePool(big);
    await store.setIpamConfig(mapping({ Default: ['vxnet-big'] }));
    const reads: string[] = [];
    const ipam = new Ipam(store, testOptions({ onRead: (e) => reads.push(`${e.kind} ${e.op}`) }));
    const first = await ipam.allocate(pod('h1'));
    expect(reads.filter((r) => r.startsWith('IPAMBlock'))).toEqual(['IPAMBlock get']);
    // Fill the node's block and the next 19 (of 64): the scan gives up after 8 full blocks and lists once.
    const start = nodeOffset('node-1', 64);
    for (let i = 0; i < 20; i++) {
      const index = (start + i) % 64;
      await fill(store, `4100-10-0-${Math.floor(index / 16)}-${(index % 16) * 16}-28`);
    }
    reads.length = 0;
    const second = await ipam.allocate(pod('h2'));
    expect(second.block).not.toBe(first.block);
    expect(reads.filter((r) => r === 'IPAMBlock get')).toHaveLength(8);
    expect(reads.filter((r) => r === 'IPAMBlock list')).toHaveLength(1);
    // The allocator remembers where the node succeeded: the next allocation reads that block only.
    reads.length = 0;
    expect((await ipam.allocate(pod('h3'))).block).toBe(second.block);
    expect(reads.filter((r) => r.startsWith('IPAMBlock'))).toEqual(['IPAMBlock get']);
  });
});

describe('fixed IPs (annotation cni.projectcalico.org/ipAddrs)', () => {
  it('takes the requested address and keeps the order of the free list', async () => {
    const r = await rig({ default: [B(32)] });
    const before = (await r.store.getBlock(B(32)))?.object.spec.unallocated ?? [];
    const a = await r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.40'] });
    expect(a).toMatchObject({ address: '172.16.3.40', addressWithPrefix: '172.16.3.40/27', block: B(32), fixed: true });
    const after = (await r.store.getBlock(B(32)))?.object.spec.unallocated;
    expect(after).toEqual(before.filter((o) => o !== 8));
    expect(r.counter.writes('allocate')).toBe(2);
    const again = await r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.40'] });
    expect(again).toEqual({ ...a, reused: true });
  });

  it('a taken address fails with FixedIpTakenError; the first free one of several wins', async () => {
    const r = await rig({ default: [B(32)] });
    await r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.40'] });
    const error = await r.ipam.allocate({ ...pod('h2'), fixedIps: ['172.16.3.40'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FixedIpTakenError);
    expect((error as FixedIpTakenError).owner).toBe('h1');
    expect(await r.store.getHandle('h2')).toBeUndefined();
    const b = await r.ipam.allocate({ ...pod('h3'), fixedIps: ['172.16.3.40', '172.16.3.41'] });
    expect(b.address).toBe('172.16.3.41');
  });

  it('an address outside every eligible block fails; reserved addresses are refused', async () => {
    const r = await rig({ default: [B(32)], other: [B(0)] });
    await expect(r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.70'] })).rejects.toBeInstanceOf(AddressOutOfRangeError);
    await expect(r.ipam.allocate({ ...pod('h2', 'other'), fixedIps: ['172.16.3.1'] })).rejects.toBeInstanceOf(FixedIpReservedError);
    expect(r.counter.writes()).toBe(0);
  });

  it('works through Default pools too', async () => {
    const r = await rig({ Default: [POOL] });
    const a = await r.ipam.allocate({ ...pod('h1'), fixedIps: ['172.16.3.200'] });
    expect(a).toMatchObject({ address: '172.16.3.200', block: B(192), fixed: true });
  });
});

describe('release', () => {
  it('releases the handle: block write, then handle delete (2 writes)', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('h1'));
    r.writes.length = 0;
    const released = await r.ipam.release('h1');
    expect(released).toEqual([{ address: '172.16.3.2', addressWithPrefix: '172.16.3.2/27', block: B(0), pool: POOL }]);
    expect(r.writes.map((w) => `${w.kind} ${w.op} ${w.outcome}`)).toEqual(['IPAMBlock update ok', 'IPAMHandle delete ok']);
    expect(await r.store.getHandle('h1')).toBeUndefined();
    expect((await r.store.getBlock(B(0)))?.object.spec.unallocated.at(-1)).toBe(2);
  });

  it('releasing an unknown handle, or twice, succeeds and writes nothing', async () => {
    const r = await rig({ default: [B(0)] });
    expect(await r.ipam.release('nobody')).toEqual([]);
    await r.ipam.allocate(pod('h1'));
    await r.ipam.release('h1');
    r.counter.reset();
    expect(await r.ipam.release('h1')).toEqual([]);
    expect(r.counter.writes()).toBe(0);
  });

  it('retries a lost block write', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('h1'));
    r.store.failWrites({ kind: 'IPAMBlock', op: 'update', times: 2 });
    expect(await r.ipam.release('h1')).toHaveLength(1);
    expect(r.counter.conflicts('release')).toBe(2);
    expect(await findings(r.store)).toEqual([]);
  });

  it('a handle that changed before its delete is read again, so nothing is left behind', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('h1'));
    r.store.failWrites({ kind: 'IPAMHandle', op: 'delete', times: 1 });
    await r.ipam.release('h1');
    expect(await r.store.getHandle('h1')).toBeUndefined();
  });

  it('drops a handle whose blocks hold nothing for it', async () => {
    const r = await rig({ default: [B(0)] });
    await r.store.createHandle({ ...newHandle('stale'), spec: { ...newHandle('stale').spec, block: { '4100-172.16.3.0/27': 1 } } });
    expect(await r.ipam.release('stale')).toEqual([]);
    expect(await r.store.getHandle('stale')).toBeUndefined();
  });

  it('honours the cooldown across release and allocate', async () => {
    const store = new MemoryIpamStore();
    await seed(store, { default: [B(0)] });
    let now = T0;
    const ipam = new Ipam(store, testOptions({ clock: () => now, cooldownMs: 60_000 }));
    await fill(store, B(0), 1);
    const a = await ipam.allocate(pod('h1'));
    await ipam.release('h1');
    now = at(1_000);
    const exhausted = await ipam.allocate(pod('h2')).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(PoolExhaustedError);
    expect((exhausted as Error).message).toContain('1 released addresses are cooling down');
    const cooling = await ipam.allocate({ ...pod('h3'), fixedIps: [a.address] }).catch((e: unknown) => e);
    expect(cooling).toBeInstanceOf(FixedIpCoolingDownError);
    now = at(60_001);
    expect((await ipam.allocate(pod('h2'))).address).toBe(a.address);
  });

  it('with cooldown 0 a released address is reused after every other free one (FIFO)', async () => {
    const r = await rig({ default: [B(0)] }, { cooldownMs: 0 });
    await r.ipam.allocate(pod('h1'));
    await r.ipam.allocate(pod('h2'));
    await r.ipam.release('h1');
    expect((await r.ipam.allocate(pod('h3'))).address).toBe('172.16.3.4');
  });
});

describe('objects from the store are never mutated', () => {
  it('allocates, releases and repairs over a store whose answers are frozen', async () => {
    const inner = new MemoryIpamStore();
    await seed(inner, { Default: [POOL], default: [B(0)] });
    const frozen = new Proxy(inner, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => deepFreeze(await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
    const ipam = new Ipam(frozen, testOptions({ cooldownMs: 0 }));
    await ipam.allocate(pod('h1'));
    await ipam.allocate({ ...pod('h2'), fixedIps: ['172.16.3.10'] });
    await ipam.allocate(pod('h3', 'other'));
    await ipam.release('h1');
    const report = await ipam.check([], { now: at(3_600_000) });
    await ipam.repair(report.plan, { now: at(3_600_000) });
    expect(await inner.listHandles()).toEqual([]);
  });
});

describe('inspection and repair', () => {
  it('addressesOf lists what a handle holds', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('h1'));
    expect(await r.ipam.addressesOf('h1')).toEqual([
      { address: '172.16.3.2', addressWithPrefix: '172.16.3.2/27', block: B(0), pool: POOL },
    ]);
    expect(await r.ipam.addressesOf('nobody')).toEqual([]);
  });

  it('utilisation per pool, block and namespace', async () => {
    const r = await rig({ Default: [POOL], default: [B(0)] });
    for (const h of ['h1', 'h2', 'h3']) await r.ipam.allocate(pod(h));
    await r.ipam.allocate(pod('x1', 'other'));
    await r.ipam.release('x1');
    const u = await r.ipam.utilisation();
    expect(u.pools).toEqual([{ name: POOL, capacity: 256, allocated: 3, unallocated: 238, reserved: 15, blocks: 8 }]);
    expect(u.blocks.find((b) => b.name === B(0))).toEqual({
      name: B(0), pool: POOL, capacity: 32, allocated: 3, unallocated: 27, reserved: 2, coolingDown: 0,
    });
    expect(u.blocks.reduce((n, b) => n + b.coolingDown, 0)).toBe(1);
    expect(u.namespaces).toEqual([
      { namespace: 'default', blocks: [B(0)], capacity: 32, allocated: 3, unallocated: 27, reserved: 2, addresses: 3 },
    ]);
  });

  it('check finds a leak and an orphan handle; repair releases and deletes', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('default-web-abc'));
    await r.ipam.allocate(pod('default-db-def'));
    await r.store.createHandle({ ...newHandle('orphan'), spec: { ...newHandle('orphan').spec, block: { '4100-172.16.3.0/27': 1 } } });
    const live = [{ namespace: 'default', name: 'default-db-def' }];
    const later = at(10 * 60_000);
    const report = await r.ipam.check(live, { now: later });
    expect(report.plan.release).toEqual([{ blockName: B(0), handleId: 'default-web-abc', ordinals: [2] }]);
    expect(report.plan.deleteHandles).toEqual(['default-web-abc', 'orphan']);
    const result = await r.ipam.repair(report.plan, { now: later });
    expect(result.released).toEqual([{ block: B(0), handleId: 'default-web-abc', addresses: ['172.16.3.2'] }]);
    expect(result.deletedHandles).toEqual(['default-web-abc', 'orphan']);
    expect(result.skipped).toEqual([]);
    expect((await r.ipam.check(live, { now: later })).findings).toEqual([]);
    expect(await r.ipam.addressesOf('default-db-def')).toHaveLength(1);
  });

  it('repair records an address a live pod uses that its block forgot, once', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('default-web-abc'));
    const live = [
      { namespace: 'default', name: 'default-web-abc' },
      { namespace: 'default', name: 'lost', containerID: 'feed01', ip: '172.16.3.9', node: 'node-3' },
    ];
    const report = await r.ipam.check(live);
    expect(report.plan.recordAddresses).toEqual([
      { blockName: B(0), address: '172.16.3.9', handleId: 'default-lost-feed01', namespace: 'default', pod: 'lost', node: 'node-3' },
    ]);
    const result = await r.ipam.repair(report.plan);
    expect(result.recordedAddresses).toEqual(['172.16.3.9']);
    expect(result.skipped).toEqual([]);
    expect((await r.ipam.addressesOf('default-lost-feed01')).map((a) => a.address)).toEqual(['172.16.3.9']);
    expect((await r.ipam.check(live)).findings).toEqual([]);
    // The recorded address is no longer handed to another pod.
    for (let i = 0; i < 5; i++) expect((await r.ipam.allocate(pod(`default-n${i}-x`))).address).not.toBe('172.16.3.9');
    expect((await r.ipam.repair(report.plan)).skipped.map((s) => s.reason)).toEqual(['the address is recorded for the pod now']);
  });

  it('repair skips actions whose objects changed since the check', async () => {
    const r = await rig({ default: [B(0)] });
    await r.ipam.allocate(pod('default-web-abc'));
    const later = at(10 * 60_000);
    const report = await r.ipam.check([], { now: later });
    await r.ipam.release('default-web-abc');
    const result = await r.ipam.repair(report.plan, { now: later });
    expect(result.released).toEqual([]);
    expect(result.skipped.map((s) => s.action)).toEqual(['release', 'delete handle']);
  });

  it('ensurePool creates the pool and its blocks once', async () => {
    const store = new MemoryIpamStore();
    const ipam = new Ipam(store);
    const first = await ipam.ensurePool(examplePool());
    expect(first.createdPool).toBe(true);
    expect(first.createdBlocks).toHaveLength(8);
    expect(await ipam.ensurePool(examplePool())).toEqual({ createdPool: false, createdBlocks: [] });
  });
});
