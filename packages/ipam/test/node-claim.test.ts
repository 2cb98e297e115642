import { describe, expect, it } from 'vitest';
import type { ClaimEntry, ClaimLedger, ClaimProblem } from '../src/index.ts';
import {
  checkConsistency,
  claimedAddresses,
  claimHandleId,
  InvalidArgumentError,
  MemoryClaimLedger,
  NodeClaim,
  trimChoice,
  validateWarmIps,
} from '../src/index.ts';
import { at, T0 } from './helpers.ts';
import { POOL, pod, rig } from './ipam-helpers.ts';
import type { Rig } from './ipam-helpers.ts';

const WARM = { minimum: 2, target: 4, maximum: 8 };

async function claimRig(warm = WARM, ledger: ClaimLedger = new MemoryClaimLedger(), r?: Rig) {
  const base = r ?? (await rig({ Default: [POOL] }, { cooldownMs: 60_000 }));
  const problems: ClaimProblem[] = [];
  const claim = await NodeClaim.open({
    ipam: base.ipam,
    ledger,
    node: 'node-1',
    warm,
    schedule: () => {},
    onProblem: (p) => problems.push(p),
  });
  await claim.sync({ reconcile: true, now: T0 });
  return { ...base, claim, ledger, problems };
}

async function snapshot(r: Rig) {
  const [pools, blocks, handles] = await Promise.all([r.store.listPools(), r.store.listBlocks(), r.store.listHandles()]);
  return { pools: pools.map((v) => v.object), blocks: blocks.map((v) => v.object), handles: handles.map((v) => v.object) };
}

describe('NodeClaim', () => {
  it('makes no store call on a warm allocation or a release', async () => {
    const r = await claimRig();
    await r.claim.sync({ reconcile: true, now: T0 });
    expect(r.claim.counts(T0)).toEqual({ assigned: 0, ready: 4, cooling: 0, unpublished: 0 });
    r.counter.reset();
    const a = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    const released = await r.claim.release('default-a-1', { now: T0 });
    expect(released).toEqual([{ address: a.address }]);
    expect(r.counter.reads()).toBe(0);
    expect(r.counter.writes()).toBe(0);
  });

  it('writes at most once per allocation, amortised over 100 ADDs published in batches', async () => {
    const r = await claimRig({ minimum: 4, target: 16, maximum: 32 });
    r.counter.reset();
    for (let i = 0; i < 100; i++) {
      await r.claim.allocate({ ...pod(`default-p${i}-1`), now: T0 });
      if (i % 10 === 9) await r.claim.sync({ now: T0 });
    }
    await r.claim.sync({ now: T0 });
    expect(r.claim.counts(T0).assigned).toBe(100);
    expect(r.claim.counts(T0).unpublished).toBe(0);
    expect(r.counter.writes()).toBeLessThanOrEqual(100);
    // Every pod is visible in its block, under the claim handle.
    const blocks = await r.store.listBlocks();
    const published = blocks.flatMap((b) => claimedAddresses(b.object.spec, 'node-1')).filter((c) => c.assignment !== undefined);
    expect(published).toHaveLength(100);
    expect(new Set(published.map((c) => c.assignment?.handleId)).size).toBe(100);
  });

  it('serves a burst beyond the ready addresses with one shared refill, without a conflict or the allocator', async () => {
    const r = await claimRig();
    expect(r.claim.counts(T0).ready).toBe(4);
    r.counter.reset();
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => r.claim.allocate({ ...pod(`default-b${i}-1`), now: T0 })));
    expect(new Set(burst.map((a) => a.address)).size).toBe(10);
    expect(r.claim.counts(T0).assigned).toBe(10);
    // One claim: the block taken from and the claim handle, each written once; no pod handle of the allocator.
    expect(r.counter.writes('claim')).toBe(2);
    expect(r.counter.conflicts()).toBe(0);
    expect(r.counter.writes('allocate')).toBe(0);
    // The target is kept ready beside the burst.
    expect(r.claim.counts(T0).ready).toBe(4);
  });

  it('keeps a released address out of use until the cooldown has passed', async () => {
    const r = await claimRig({ minimum: 0, target: 1, maximum: 4 });
    const a = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    await r.claim.release('default-a-1', { now: T0 });
    const b = await r.claim.allocate({ ...pod('default-b-1'), now: at(1000) });
    expect(b.address).not.toBe(a.address);
    await r.claim.release('default-b-1', { now: at(1000) });
    const c = await r.claim.allocate({ ...pod('default-c-1'), now: at(60_000) });
    expect(c.address).toBe(a.address);
  });

  it('gives the same address back to a repeated request of the same handle', async () => {
    const r = await claimRig();
    const a = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    const again = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    expect(again).toEqual({ ...a, reused: true });
  });

  it('sends fixed IPs to the allocator, giving a free claimed address back to its block first', async () => {
    const r = await claimRig();
    await r.claim.sync({ now: T0 });
    const wanted = r.claim.entries()[0]!.address;
    const a = await r.claim.allocate({ ...pod('default-f-1'), fixedIps: [wanted], now: T0 });
    expect(a).toMatchObject({ address: wanted, fixed: true });
    expect(r.claim.entries().map((e) => e.address)).not.toContain(wanted);
    // The allocator's handle owns it now; releasing goes through the allocator too.
    expect(await r.ipam.addressesOf('default-f-1')).toHaveLength(1);
    expect(await r.claim.release('default-f-1', { now: T0 })).toEqual([expect.objectContaining({ address: wanted })]);
  });

  it('trims above the maximum back to the target, cooling addresses first and keeping their cooldown', async () => {
    const r = await claimRig({ minimum: 0, target: 2, maximum: 3 });
    const handles = ['default-a-1', 'default-b-1', 'default-c-1', 'default-d-1'];
    for (const h of handles) await r.claim.allocate({ ...pod(h), now: T0 });
    for (const h of handles) await r.claim.release(h, { now: T0 });
    const report = await r.claim.sync({ now: at(1000) });
    expect(report.returned).toBeGreaterThanOrEqual(2);
    const free = r.claim.entries().filter((e) => e.assignment === undefined);
    expect(free).toHaveLength(2);
    // The given-back addresses still cool down in their block.
    const cooling = (await r.store.listBlocks()).flatMap((b) => Object.keys(b.object.spec.releasedAt ?? {}));
    expect(cooling).toHaveLength(report.returned);
    const s = await snapshot(r);
    const problems = checkConsistency({ ...s, livePods: [], now: at(1000), liveNodes: ['node-1'] }).findings;
    expect(problems).toEqual([]);
  });

  it('adopts claimed addresses the ledger lost and drops free entries the store no longer records', async () => {
    const r = await claimRig();
    await r.claim.sync({ now: T0 });
    const held = r.claim.entries().map((e) => e.address).sort();
    // A restart with an empty ledger (a crash between the claim write and the ledger write).
    const ledger = new MemoryClaimLedger();
    const again = await NodeClaim.open({ ipam: r.ipam, ledger, node: 'node-1', warm: WARM, schedule: () => {} });
    const report = await again.sync({ reconcile: true, now: T0 });
    expect(report.adopted).toBe(held.length);
    expect(again.entries().map((e) => e.address).sort()).toEqual(held);
    expect((await ledger.load()).map((e) => e.address).sort()).toEqual(held);
  });

  it('uses no ledger entry before comparing it with the store: a claim collected meanwhile is dropped', async () => {
    const r = await claimRig();
    const ledger = new MemoryClaimLedger();
    await ledger.put(r.claim.entries());
    // The controller collects the claim (the node was taken for gone).
    const s = await snapshot(r);
    const plan = checkConsistency({ ...s, livePods: [], now: T0, liveNodes: [] }).plan;
    await r.ipam.repair(plan, { now: T0 });
    expect(await r.ipam.claimOf('node-1')).toEqual([]);
    const stale = new Set(r.claim.entries().map((e) => e.address));
    const again = await NodeClaim.open({ ipam: r.ipam, ledger, node: 'node-1', warm: WARM, schedule: () => {} });
    // Before the reconcile the allocator serves (and its address is not a stale ledger entry's … unless the
    // block gives it out again, which is fine: the store says it is free).
    const first = await again.allocate({ ...pod('default-a-1'), now: T0 });
    expect(await r.ipam.addressesOf('default-a-1')).toHaveLength(1);
    expect(first.address).toBeDefined();
    const report = await again.sync({ reconcile: true, now: T0 });
    expect(report.dropped).toBe(stale.size);
    // The new entries are claimed in the store; none is a stale one the store did not give back to this claim.
    const held = new Set((await r.ipam.claimOf('node-1')).map((h) => h.address));
    expect(again.entries().every((e) => held.has(e.address))).toBe(true);
  });

  it('is released by the consistency check when its node is gone, and left alone otherwise', async () => {
    const r = await claimRig();
    await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    await r.claim.sync({ now: T0 });
    const s = await snapshot(r);
    const alive = checkConsistency({ ...s, livePods: [], now: T0, liveNodes: ['node-1'] });
    expect(alive.findings).toEqual([]);
    const gone = checkConsistency({ ...s, livePods: [], now: T0, liveNodes: ['node-2'] });
    expect(gone.findings.filter((f) => f.kind === 'DeadNodeClaim')).toHaveLength(1);
    expect(gone.plan.deleteHandles).toEqual([claimHandleId('node-1')]);
    const count = r.claim.entries().length;
    expect(gone.plan.release.flatMap((x) => x.ordinals)).toHaveLength(count);
  });

  it('does not report a live pod whose address its node claims', async () => {
    const r = await claimRig();
    const a = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
    const s = await snapshot(r);
    const livePods = [{ namespace: 'default', name: 'default-a-1', containerID: '1', ip: a.address, node: 'node-1' }];
    expect(checkConsistency({ ...s, livePods, now: T0 }).findings).toEqual([]);
  });

  it('refuses marks out of bounds, naming the mark', () => {
    expect(() => validateWarmIps({ minimum: 5, target: 4, maximum: 8 })).toThrow(/warmIps\.minimum/);
    expect(() => validateWarmIps({ minimum: 0, target: 0, maximum: 8 })).toThrow(InvalidArgumentError);
    expect(() => validateWarmIps({ minimum: 0, target: 4, maximum: 2 })).toThrow(/warmIps\.maximum/);
    expect(() => validateWarmIps({ minimum: 0, target: 4, maximum: 2000 })).toThrow(/from 0 to 1024/);
  });
});

describe('LmdbClaimLedger', () => {
  it('keeps entries across a reopen, assignments included', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LmdbClaimLedger } = await import('../src/stores/lmdb/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'hostnic-claim-ledger-'));
    try {
      const ledger = LmdbClaimLedger.open(dir);
      const r = await claimRig(WARM, ledger);
      const a = await r.claim.allocate({ ...pod('default-a-1'), now: T0 });
      await ledger.close();
      const reopened = LmdbClaimLedger.open(dir);
      const entries = await reopened.load();
      expect(entries.length).toBe(WARM.target);
      expect(entries.find((e) => e.address === a.address)?.assignment).toEqual({ handleId: 'default-a-1', namespace: 'default', pod: 'default-a-1', at: T0.toISOString() });
      await reopened.remove([a.address]);
      expect(await reopened.load()).toHaveLength(WARM.target - 1);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trimChoice', () => {
  const entry = (address: string, block: string, releasedAt?: string): ClaimEntry => ({
    address, addressWithPrefix: `${address}/27`, block, pool: POOL, gateway: undefined, assignment: undefined, releasedAt, published: true,
  });

  it('gives back what no source in use can take first, then cooling addresses, then ready ones', () => {
    const entries = [
      entry('10.0.0.1', 'b1'),
      entry('10.0.0.2', 'b1', at(-1000).toISOString()),
      entry('10.0.0.3', 'b2'),
      entry('10.0.0.4', 'b1'),
    ];
    const chosen = trimChoice(entries, 1, T0.getTime(), 60_000, (e) => e.block === 'b1');
    expect(chosen.map((e) => e.address)).toEqual(['10.0.0.3', '10.0.0.2', '10.0.0.4']);
    expect(trimChoice(entries, 4, T0.getTime(), 60_000)).toEqual([]);
  });
});
