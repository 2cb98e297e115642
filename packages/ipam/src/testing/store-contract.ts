/**
 * The contract every {@link IpamStore} must meet, as cases that run against any store and throw on failure.
 * They use `node:assert` only, so any test runner can drive them:
 *
 * ```ts
 * for (const c of storeContractCases()) it(c.name, async () => { const s = await open(); try { await c.run(s); } finally { await s.close(); } });
 * ```
 *
 * Each case creates objects with names of its own (random suffixes), so cases also pass against a shared,
 * non-empty store — except the ConfigMap case, which overwrites `kube-system/hostnic-ipam-config`. Stores may
 * add metadata (uid, timestamps, owner references): the cases compare names, labels, annotations and specs.
 *
 * @packageDocumentation
 */
import assert from 'node:assert/strict';
import { formatIPv4 } from '../address.ts';
import { newBlock } from '../blocks.ts';
import { IpamErrorCode } from '../errors.ts';
import { newHandle } from '../handle.ts';
import type { IpamStore, Versioned } from '../store.ts';
import type { IPAMBlock, IPAMHandle, IPPool } from '../types.ts';
import { LABEL_POOL_NAME } from '../types.ts';

/** One contract case. */
export interface StoreContractCase {
  /** What the case checks. */
  readonly name: string;
  /** Runs the case against a store; throws when the store breaks the contract. */
  run(store: IpamStore): Promise<void>;
}

function suffix(): string {
  return Math.random().toString(36).slice(2, 8).padEnd(6, '0');
}

function testPool(name = `vxnet-${suffix()}`): IPPool {
  const second = 1 + Math.floor(Math.random() * 250);
  const third = Math.floor(Math.random() * 256);
  return {
    metadata: { name, labels: { [LABEL_POOL_NAME]: name } },
    spec: {
      type: 'local',
      cidr: `10.${second}.${third}.0/24`,
      rangeStart: `10.${second}.${third}.2`,
      rangeEnd: `10.${second}.${third}.250`,
      gateway: `10.${second}.${third}.1`,
      blockSize: 28,
      vlanConfig: { vlanId: 0, master: '' },
      dns: {},
    },
  };
}

function testBlock(pool: IPPool, index = 0): IPAMBlock {
  const base = pool.spec.cidr.split('/')[0] ?? '10.0.0.0';
  const [a, b, c] = base.split('.').map(Number);
  return newBlock(pool, `${formatIPv4((((a ?? 10) * 256 + (b ?? 0)) * 256 + (c ?? 0)) * 256 + index * 16)}/28`);
}

function testHandle(): IPAMHandle {
  return newHandle(`contract-pod-${suffix()}`);
}

/** The block with its first free ordinal given to `handle`. */
function withAllocation(block: IPAMBlock, handle: string): IPAMBlock {
  const [first, ...rest] = block.spec.unallocated;
  assert.ok(first !== undefined, 'test block has a free address');
  const allocations = block.spec.allocations.map((v, i) => (i === first ? block.spec.attributes.length : v));
  const attributes = [...block.spec.attributes, { handle_id: handle, secondary: { namespace: 'default', pod: 'p' } }];
  return { ...block, spec: { ...block.spec, allocations, unallocated: rest, attributes } };
}

async function rejects(promise: Promise<unknown>, code: IpamErrorCode, what: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `${what}: threw a non-Error ${String(error)}`);
    assert.equal((error as { code?: unknown }).code, code, `${what}: expected code ${code}, got ${String(error)}`);
    return error;
  }
  assert.fail(`${what}: expected an error with code ${code}, but it succeeded`);
}

function sameObject(actual: { metadata: { name: string; labels?: unknown }; spec: unknown } | undefined, expected: IPAMBlock | IPAMHandle | IPPool, what: string): void {
  assert.ok(actual !== undefined, `${what}: object missing`);
  assert.equal(actual.metadata.name, expected.metadata.name, `${what}: name`);
  assert.deepEqual(actual.metadata.labels ?? {}, expected.metadata.labels ?? {}, `${what}: labels`);
  assert.deepEqual(actual.spec, expected.spec, `${what}: spec`);
}

function names<T extends { metadata: { name: string } }>(list: readonly Versioned<T>[]): string[] {
  return list.map((v) => v.object.metadata.name);
}

const cases: StoreContractCase[] = [
  {
    name: 'reads of unknown objects give undefined',
    async run(store) {
      const s = suffix();
      assert.equal(await store.getPool(`vxnet-none-${s}`), undefined);
      assert.equal(await store.getBlock(`4100-10-255-255-0-28-${s}`), undefined);
      assert.equal(await store.getHandle(`none-${s}`), undefined);
    },
  },
  {
    name: 'pools: create, get, list, delete',
    async run(store) {
      const pool = testPool();
      const created = await store.createPool(pool);
      assert.equal(typeof created.version, 'string');
      assert.ok(created.version !== '', 'version is not empty');
      sameObject(created.object, pool, 'create result');
      const read = await store.getPool(pool.metadata.name);
      sameObject(read?.object, pool, 'get');
      assert.equal(read?.version, created.version, 'get returns the version of the create');
      assert.ok(names(await store.listPools()).includes(pool.metadata.name), 'list includes the pool');
      await rejects(store.createPool(pool), IpamErrorCode.AlreadyExists, 'second create');
      await store.deletePool(pool.metadata.name, created.version);
      assert.equal(await store.getPool(pool.metadata.name), undefined, 'gone after delete');
      await rejects(store.deletePool(pool.metadata.name), IpamErrorCode.NotFound, 'delete of a deleted pool');
    },
  },
  {
    name: 'pools: create drops status, update keeps it, status update keeps the spec',
    async run(store) {
      const pool = testPool();
      const status = { capacity: 256, allocations: 0, unallocated: 241, reserved: 15, synced: true };
      const created = await store.createPool({ ...pool, status });
      assert.equal(created.object.status, undefined, 'create result has no status');
      assert.equal((await store.getPool(pool.metadata.name))?.object.status, undefined, 'stored without status');

      const withStatus = await store.updatePoolStatus(pool.metadata.name, status, created.version);
      assert.notEqual(withStatus.version, created.version, 'status update changes the version');
      assert.deepEqual(withStatus.object.status, status);
      sameObject(withStatus.object, pool, 'status update keeps metadata and spec');
      await rejects(
        store.updatePoolStatus(pool.metadata.name, status, created.version),
        IpamErrorCode.Conflict,
        'status update at a stale version',
      );

      const disabled: IPPool = { ...pool, spec: { ...pool.spec, disabled: true }, status: { ...status, capacity: 1 } };
      const updated = await store.updatePool(disabled, withStatus.version);
      assert.equal(updated.object.spec.disabled, true);
      assert.deepEqual(updated.object.status, status, 'update keeps the stored status');
      const read = await store.getPool(pool.metadata.name);
      assert.deepEqual(read?.object.status, status);
      assert.equal(read?.object.spec.disabled, true);
      await rejects(store.updatePool(pool, withStatus.version), IpamErrorCode.Conflict, 'update at a stale version');
      await store.deletePool(pool.metadata.name);
      await rejects(store.updatePool(pool, updated.version), IpamErrorCode.NotFound, 'update of a deleted pool');
    },
  },
  {
    name: 'blocks: round trip of the spec, nulls and releasedAt included',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const fresh = withAllocation(testBlock(pool), 'contract-owner');
      const block: IPAMBlock = { ...fresh, spec: { ...fresh.spec, releasedAt: { '5': '2025-03-03T08:01:02.123Z' } } };
      const created = await store.createBlock(block);
      sameObject(created.object, block, 'create result');
      const read = await store.getBlock(block.metadata.name);
      sameObject(read?.object, block, 'get');
      assert.equal(read?.version, created.version);
      assert.ok(read?.object.spec.allocations.includes(null), 'null allocations survive');
      await rejects(store.createBlock(block), IpamErrorCode.AlreadyExists, 'second create');
    },
  },
  {
    name: 'blocks: compare-and-swap update',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      const v1 = await store.createBlock(block);
      const changed = withAllocation(block, 'contract-a');
      const v2 = await store.updateBlock(changed, v1.version);
      assert.notEqual(v2.version, v1.version, 'a write gives a new version');
      sameObject(v2.object, changed, 'update result');
      const stale = await rejects(
        store.updateBlock(withAllocation(block, 'contract-b'), v1.version),
        IpamErrorCode.Conflict,
        'update at a stale version',
      );
      assert.equal((stale as { kind?: unknown }).kind, 'IPAMBlock', 'error names the kind');
      assert.equal((stale as { objectName?: unknown }).objectName, block.metadata.name, 'error names the object');
      const read = await store.getBlock(block.metadata.name);
      sameObject(read?.object, changed, 'a failed update changes nothing');
      assert.equal(read?.version, v2.version);
      const v3 = await store.updateBlock(block, v2.version);
      sameObject((await store.getBlock(block.metadata.name))?.object, block, 'update with the current version');
      assert.notEqual(v3.version, v2.version);
    },
  },
  {
    name: 'blocks: concurrent updates from one version, exactly one wins',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      const v1 = await store.createBlock(block);
      const writers = ['contract-w1', 'contract-w2', 'contract-w3', 'contract-w4'];
      const outcomes = await Promise.allSettled(writers.map((h) => store.updateBlock(withAllocation(block, h), v1.version)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1, `exactly one writer wins, got ${won.length}`);
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: unknown }).code, IpamErrorCode.Conflict);
      }
      const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
      const read = await store.getBlock(block.metadata.name);
      assert.deepEqual(read?.object.spec, winner?.object.spec, 'the stored block is the winner');
    },
  },
  {
    name: 'blocks: update or delete of a missing block throws NotFound',
    async run(store) {
      const pool = testPool();
      const block = testBlock(pool);
      await rejects(store.updateBlock(block, '1'), IpamErrorCode.NotFound, 'update');
      await rejects(store.deleteBlock(block.metadata.name), IpamErrorCode.NotFound, 'delete');
      await rejects(store.deleteBlock(block.metadata.name, '1'), IpamErrorCode.NotFound, 'delete at a version');
    },
  },
  {
    name: 'blocks: list, and list by pool label',
    async run(store) {
      const a = testPool();
      const b = testPool();
      await store.createPool(a);
      await store.createPool(b);
      const a0 = testBlock(a, 0);
      const a1 = testBlock(a, 1);
      const b0 = testBlock(b, 0);
      for (const block of [a0, a1, b0]) await store.createBlock(block);
      const ofA = names(await store.listBlocks({ pool: a.metadata.name })).sort();
      assert.deepEqual(ofA, [a0.metadata.name, a1.metadata.name].sort());
      assert.deepEqual(names(await store.listBlocks({ pool: b.metadata.name })), [b0.metadata.name]);
      const all = names(await store.listBlocks());
      for (const block of [a0, a1, b0]) assert.ok(all.includes(block.metadata.name), `list includes ${block.metadata.name}`);
      const listed = (await store.listBlocks({ pool: a.metadata.name })).find((v) => v.object.metadata.name === a0.metadata.name);
      assert.equal(listed?.version, (await store.getBlock(a0.metadata.name))?.version, 'list carries versions');
    },
  },
  {
    name: 'blocks: delete with a version precondition',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      const v1 = await store.createBlock(block);
      const v2 = await store.updateBlock(withAllocation(block, 'contract-x'), v1.version);
      await rejects(store.deleteBlock(block.metadata.name, v1.version), IpamErrorCode.Conflict, 'delete at a stale version');
      assert.ok((await store.getBlock(block.metadata.name)) !== undefined, 'a refused delete keeps the block');
      await store.deleteBlock(block.metadata.name, v2.version);
      assert.equal(await store.getBlock(block.metadata.name), undefined);
      assert.ok(!names(await store.listBlocks()).includes(block.metadata.name), 'gone from lists');
    },
  },
  {
    name: 'versions are not reused across delete and re-create',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      const first = await store.createBlock(block);
      await store.deleteBlock(block.metadata.name);
      const second = await store.createBlock(block);
      assert.notEqual(second.version, first.version, 're-created object has a new version');
      await rejects(store.updateBlock(block, first.version), IpamErrorCode.Conflict, 'write at the old incarnation');
      const handle = testHandle();
      const h1 = await store.createHandle(handle);
      await store.deleteHandle(handle.metadata.name, h1.version);
      const h2 = await store.createHandle(handle);
      assert.notEqual(h2.version, h1.version);
      await rejects(store.deleteHandle(handle.metadata.name, h1.version), IpamErrorCode.Conflict, 'delete at the old incarnation');
    },
  },
  {
    name: 'handles: create, compare-and-swap update, list, delete',
    async run(store) {
      const handle = testHandle();
      const v1 = await store.createHandle(handle);
      sameObject(v1.object, handle, 'create result');
      const counted: IPAMHandle = { ...handle, spec: { ...handle.spec, block: { '4100-10.0.0.0/28': 1 } } };
      const v2 = await store.updateHandle(counted, v1.version);
      sameObject((await store.getHandle(handle.metadata.name))?.object, counted, 'get after update');
      await rejects(store.updateHandle(handle, v1.version), IpamErrorCode.Conflict, 'update at a stale version');
      assert.ok(names(await store.listHandles()).includes(handle.metadata.name));
      await rejects(store.deleteHandle(handle.metadata.name, v1.version), IpamErrorCode.Conflict, 'delete at a stale version');
      await store.deleteHandle(handle.metadata.name, v2.version);
      assert.equal(await store.getHandle(handle.metadata.name), undefined);
      await rejects(store.updateHandle(counted, v2.version), IpamErrorCode.NotFound, 'update of a deleted handle');
    },
  },
  {
    name: 'handles: concurrent creates, exactly one wins',
    async run(store) {
      const handle = testHandle();
      const outcomes = await Promise.allSettled([1, 2, 3].map((n) =>
        store.createHandle({ ...handle, spec: { ...handle.spec, block: { [`4100-10.0.${n}.0/28`]: 1 } } }),
      ));
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: unknown }).code, IpamErrorCode.AlreadyExists);
      }
    },
  },
  {
    name: 'objects marked deleted (the Go two-phase delete) are finished off and reported absent',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      await store.createBlock({ ...block, spec: { ...block.spec, deleted: true } });
      assert.ok(!names(await store.listBlocks({ pool: pool.metadata.name })).includes(block.metadata.name), 'not listed');
      assert.equal(await store.getBlock(block.metadata.name), undefined, 'get reports it absent');
      await store.createBlock(block);
      sameObject((await store.getBlock(block.metadata.name))?.object, block, 'the name is free again');

      const handle = testHandle();
      await store.createHandle({ ...handle, spec: { ...handle.spec, deleted: true } });
      assert.equal(await store.getHandle(handle.metadata.name), undefined, 'get reports the handle absent');
      await store.createHandle(handle);
      const marked = testHandle();
      await store.createHandle({ ...marked, spec: { ...marked.spec, deleted: true } });
      assert.ok(!names(await store.listHandles()).includes(marked.metadata.name), 'marked handle not listed');
      await store.createHandle(marked);
    },
  },
  {
    name: 'no shared state: mutating what was passed or returned changes nothing stored',
    async run(store) {
      const pool = testPool();
      await store.createPool(pool);
      const block = testBlock(pool);
      const mutable = JSON.parse(JSON.stringify(block)) as { spec: { unallocated: number[]; allocations: (number | null)[] } };
      const created = await store.createBlock(mutable as unknown as IPAMBlock);
      mutable.spec.unallocated.length = 0;
      (created.object.spec.allocations as (number | null)[])[3] = 99;
      const read = await store.getBlock(block.metadata.name);
      sameObject(read?.object, block, 'after mutating input and create result');
      (read?.object.spec.unallocated as number[]).push(1000);
      sameObject((await store.getBlock(block.metadata.name))?.object, block, 'after mutating a read result');
    },
  },
  {
    name: 'metadata the IPAM does not model is kept',
    async run(store) {
      const handle = testHandle();
      const annotated = { ...handle, metadata: { ...handle.metadata, annotations: { 'hostnic.io/pod': 'default/web/abc' } } };
      const created = await store.createHandle(annotated);
      const read = await store.getHandle(handle.metadata.name);
      const annotations = (read?.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
      assert.equal(annotations?.['hostnic.io/pod'], 'default/web/abc');
      const counted = { ...annotated, spec: { ...annotated.spec, block: { '4100-10.0.0.0/28': 2 } } };
      await store.updateHandle(counted, created.version);
      const after = await store.getHandle(handle.metadata.name);
      assert.equal((after?.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.['hostnic.io/pod'], 'default/web/abc');
    },
  },
  {
    name: 'invalid object names are refused',
    async run(store) {
      await rejects(store.createHandle(newHandle('Not_A_Name')), IpamErrorCode.InvalidArgument, 'create');
      const pool = testPool('UPPER');
      await rejects(store.createPool(pool), IpamErrorCode.InvalidArgument, 'create pool');
    },
  },
  {
    name: 'ipam ConfigMap: set, get, compare-and-swap',
    async run(store) {
      const first = { 'subnet-auto-assign': 'off', ipam: '{"Default":["vxnet-a"]}' };
      const v1 = await store.setIpamConfig(first);
      assert.deepEqual({ ...(await store.getIpamConfig())?.object }, first);
      const second = { 'subnet-auto-assign': 'on', ipam: '{}' };
      const v2 = await store.setIpamConfig(second, v1.version);
      assert.notEqual(v2.version, v1.version);
      await rejects(store.setIpamConfig(first, v1.version), IpamErrorCode.Conflict, 'set at a stale version');
      assert.deepEqual({ ...(await store.getIpamConfig())?.object }, second);
      const v3 = await store.setIpamConfig(first);
      assert.equal((await store.getIpamConfig())?.version, v3.version, 'unconditional set');
      assert.deepEqual({ ...(await store.getIpamConfig())?.object }, first);
    },
  },
];

/**
 * The contract cases, in a fixed order. Run each against a store of its own (or a shared one, see above).
 */
export function storeContractCases(): StoreContractCase[] {
  return [...cases];
}
