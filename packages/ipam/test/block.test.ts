import { describe, expect, it } from 'vitest';
import type { IPAMBlockSpec } from '../src/index.ts';
import {
  AddressOutOfRangeError,
  addressOfOrdinal,
  addressUse,
  allocatedCount,
  assignAddresses,
  assignFixedAddress,
  availableCount,
  blockContains,
  checkBlock,
  coolingUntil,
  FixedIpCoolingDownError,
  FixedIpReservedError,
  FixedIpTakenError,
  formatGoTimestamp,
  freeCount,
  handleAddresses,
  handleHasAddresses,
  handleOrdinals,
  InvalidArgumentError,
  InvalidBlockError,
  isBlockEmpty,
  newBlockSpec,
  ordinalOfAddress,
  parseTimestamp,
  releaseByHandle,
  releaseOrdinals,
  reservedCount,
} from '../src/index.ts';
import { at, blocksByStart, catchError, deepFreeze, must, runningPool, T0 } from './helpers.ts';

const NO_COOLDOWN = { now: T0, cooldownMs: 0 };
const attrs = (pod: string) => ({ namespace: 'default', pod, node: 'node-1' });
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function freshFirst(): IPAMBlockSpec {
  return deepFreeze(must(blocksByStart(runningPool(27)).get('0')).spec);
}

function assignOne(spec: IPAMBlockSpec, handleId: string, now = T0, cooldownMs = 0): { spec: IPAMBlockSpec; ip: string | undefined } {
  const result = assignAddresses(spec, { handleId, secondary: attrs(handleId), now, cooldownMs });
  return { spec: deepFreeze(result.block), ip: result.assigned[0]?.addressWithPrefix };
}

describe('allocation and release inside a block', () => {
  it('/24 block with 10 reserved at each end', () => {
    let spec = deepFreeze(newBlockSpec(4100, '10.0.0.0/24', { rangeStart: '10.0.0.10', rangeEnd: '10.0.0.245' }));
    expect([reservedCount(spec), freeCount(spec)]).toEqual([20, 236]);
    const ten = assignAddresses(spec, { handleId: 'h1', count: 10, ...NO_COOLDOWN });
    expect(ten.assigned).toHaveLength(10);
    expect(ten.assigned[0]?.address).toBe('10.0.0.10');
    spec = deepFreeze(ten.block);
    expect(freeCount(spec)).toBe(226);
    const many = assignAddresses(spec, { handleId: 'h2', count: 1000, ...NO_COOLDOWN });
    expect(many.assigned).toHaveLength(226);
    spec = deepFreeze(many.block);
    expect(freeCount(spec)).toBe(0);
    const released = releaseByHandle(spec, 'h2', NO_COOLDOWN);
    expect(released.released).toHaveLength(226);
    expect(freeCount(released.block)).toBe(226);
    expect(freeCount(releaseByHandle(released.block, 'h1', NO_COOLDOWN).block)).toBe(236);
    expect(checkBlock(released.block)).toEqual([]);
  });

  it('FIFO reuse after release', () => {
    let spec = freshFirst();
    const ips: (string | undefined)[] = [];
    for (const h of ['h1', 'h2', 'h3']) {
      const r = assignOne(spec, h);
      spec = r.spec;
      ips.push(r.ip);
    }
    expect(ips).toEqual(['172.16.3.2/27', '172.16.3.3/27', '172.16.3.4/27']);
    const released = releaseByHandle(spec, 'h2', NO_COOLDOWN);
    expect(released.released.map((a) => a.address)).toEqual(['172.16.3.3']);
    spec = deepFreeze(released.block);
    expect(spec.attributes.map((a) => a.handle_id)).toEqual(['kubesphere-reserved-handle', 'h1', 'h3']);
    expect([spec.allocations[2], spec.allocations[3], spec.allocations[4]]).toEqual([1, null, 2]);
    expect(spec.unallocated).toEqual([...range(5, 31), 3]);
    let next = assignOne(spec, 'h4');
    expect(next.ip).toBe('172.16.3.5/27');
    spec = next.spec;
    for (let i = 6; i <= 31; i++) {
      next = assignOne(spec, `p${i}`);
      expect(next.ip).toBe(`172.16.3.${i}/27`);
      spec = next.spec;
    }
    expect(assignOne(spec, 'last').ip).toBe('172.16.3.3/27');
  });

  it('each allocation row carries namespace, node, pod, timestamp and ip', () => {
    const result = assignAddresses(freshFirst(), { handleId: 'default-nginx-abc123', secondary: attrs('nginx'), ...NO_COOLDOWN });
    const row = result.block.attributes[must(result.block.allocations[2] ?? undefined)];
    expect(row).toEqual({
      handle_id: 'default-nginx-abc123',
      secondary: { namespace: 'default', pod: 'nginx', node: 'node-1', timestamp: '2025-03-03 08:01:02.123 +0000 UTC', ip: '172.16.3.2' },
    });
    const two = assignAddresses(freshFirst(), { handleId: 'h', count: 2, secondary: attrs('x'), ...NO_COOLDOWN });
    expect(two.block.attributes).toHaveLength(3);
  });

  it('releasing an unknown handle changes nothing; isEmpty is case-insensitive', () => {
    const spec = freshFirst();
    const result = releaseByHandle(spec, 'nobody', NO_COOLDOWN);
    expect(result).toEqual({ block: spec, released: [], changed: false });
    expect(result.block).toBe(spec);
    expect(isBlockEmpty(spec)).toBe(true);
    const upper: IPAMBlockSpec = { ...spec, attributes: [{ handle_id: 'KubeSphere-Reserved-Handle' }] };
    expect(isBlockEmpty(upper)).toBe(true);
    expect(reservedCount(upper)).toBe(2);
    expect(isBlockEmpty(assignOne(spec, 'h1').spec)).toBe(false);
  });

  it('releasing twice is harmless', () => {
    const spec = assignOne(freshFirst(), 'h1').spec;
    const once = releaseByHandle(spec, 'h1', NO_COOLDOWN);
    expect(once.released).toHaveLength(1);
    const twice = releaseByHandle(once.block, 'h1', NO_COOLDOWN);
    expect(twice.changed).toBe(false);
    expect(twice.released).toEqual([]);
  });

  it('a handle that already owns an address is recognised', () => {
    const spec = assignOne(freshFirst(), 'default-nginx-abc123').spec;
    expect(handleHasAddresses(spec, 'default-nginx-abc123')).toBe(true);
    expect(handleHasAddresses(spec, 'default-nginx-abc12')).toBe(false);
    expect(handleAddresses(spec, 'default-nginx-abc123').map((a) => a.addressWithPrefix)).toEqual(['172.16.3.2/27']);
    expect(handleOrdinals(spec, 'default-nginx-abc123')).toEqual([2]);
  });

  it('returns fewer addresses when the block runs short and refuses bad requests', () => {
    const last = deepFreeze(must(blocksByStart(runningPool(27)).get('224')).spec);
    const result = assignAddresses(last, { handleId: 'h', count: 25, ...NO_COOLDOWN });
    expect(result.assigned).toHaveLength(19);
    expect(result.assigned[0]?.address).toBe('172.16.3.224');
    expect(assignAddresses(result.block, { handleId: 'g', ...NO_COOLDOWN }).assigned).toEqual([]);
    for (const handleId of ['', 'Upper', 'kubesphere-reserved-handle']) {
      const error = catchError(() => assignAddresses(last, { handleId, ...NO_COOLDOWN }));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe('handleId');
    }
    expect((catchError(() => assignAddresses(last, { handleId: 'h', count: -1, ...NO_COOLDOWN })) as InvalidArgumentError).field).toBe('count');
    expect((catchError(() => assignAddresses(last, { handleId: 'h', now: new Date(Number.NaN) })) as InvalidArgumentError).field).toBe('now');
    expect((catchError(() => assignAddresses(last, { handleId: 'h', now: T0, cooldownMs: -5 })) as InvalidArgumentError).field).toBe('cooldownMs');
  });

  it('refuses blocks whose shape is wrong', () => {
    const spec = freshFirst();
    expect(catchError(() => assignAddresses({ ...spec, allocations: [null] }, { handleId: 'h', ...NO_COOLDOWN }))).toBeInstanceOf(InvalidBlockError);
    const bad = catchError(() => assignAddresses({ ...spec, cidr: 'nope' }, { handleId: 'h', ...NO_COOLDOWN }));
    expect(bad).toBeInstanceOf(InvalidBlockError);
    expect((bad as Error).message).toContain('consistency check');
  });

  it('converts between addresses and ordinals', () => {
    const spec = freshFirst();
    expect(ordinalOfAddress(spec, '172.16.3.31')).toBe(31);
    expect(addressOfOrdinal(spec, 5)).toEqual({ ordinal: 5, address: '172.16.3.5', addressWithPrefix: '172.16.3.5/27' });
    expect(catchError(() => ordinalOfAddress(spec, '172.16.3.32'))).toBeInstanceOf(AddressOutOfRangeError);
    expect(catchError(() => addressOfOrdinal(spec, 32))).toBeInstanceOf(InvalidArgumentError);
    expect(blockContains(spec, '172.16.3.0')).toBe(true);
    expect(blockContains(spec, '172.16.3.32')).toBe(false);
    expect(blockContains(spec, 'junk')).toBe(false);
    expect(allocatedCount(assignOne(spec, 'h').spec)).toBe(1);
  });
});

describe('fixed IPs', () => {
  const second = (): IPAMBlockSpec => deepFreeze(must(blocksByStart(runningPool(27)).get('32')).spec);

  it('takes the ordinal out of unallocated and keeps the others in order', () => {
    const result = assignFixedAddress(second(), { handleId: 'default-fixed-abc', address: '172.16.3.40', secondary: attrs('fixed'), ...NO_COOLDOWN });
    expect(result.alreadyOwned).toBe(false);
    expect(result.assigned).toEqual({ ordinal: 8, address: '172.16.3.40', addressWithPrefix: '172.16.3.40/27' });
    expect(result.block.unallocated).toEqual([...range(0, 7), ...range(9, 31)]);
    expect(result.block.attributes[must(result.block.allocations[8] ?? undefined)]?.secondary?.ip).toBe('172.16.3.40');
    expect(checkBlock(result.block)).toEqual([]);
  });

  it('is idempotent for the same handle and refuses another owner', () => {
    const first = assignFixedAddress(second(), { handleId: 'a', address: '172.16.3.40', ...NO_COOLDOWN });
    const again = assignFixedAddress(first.block, { handleId: 'a', address: '172.16.3.40', ...NO_COOLDOWN });
    expect(again.alreadyOwned).toBe(true);
    expect(again.block).toBe(first.block);
    const error = catchError(() => assignFixedAddress(first.block, { handleId: 'b', address: '172.16.3.40', ...NO_COOLDOWN }));
    expect(error).toBeInstanceOf(FixedIpTakenError);
    expect((error as FixedIpTakenError).code).toBe('FixedIpTaken');
    expect((error as Error).message).toContain('172.16.3.40');
    expect((error as Error).message).toContain('4100-172-16-3-32-27');
    expect((error as FixedIpTakenError).owner).toBe('a');
  });

  it('refuses reserved addresses and addresses outside the block', () => {
    const reserved = catchError(() => assignFixedAddress(freshFirst(), { handleId: 'a', address: '172.16.3.1', ...NO_COOLDOWN }));
    expect(reserved).toBeInstanceOf(FixedIpReservedError);
    const outside = catchError(() => assignFixedAddress(second(), { handleId: 'a', address: '172.16.3.80', ...NO_COOLDOWN }));
    expect(outside).toBeInstanceOf(AddressOutOfRangeError);
    expect((outside as Error).message).toContain('172.16.3.80');
  });
});

describe('release cooldown', () => {
  const MINUTE = 60_000;

  it('records release times and skips cooling addresses without reordering', () => {
    let spec = freshFirst();
    spec = assignOne(spec, 'h1', T0, MINUTE).spec;
    spec = assignOne(spec, 'h2', T0, MINUTE).spec;
    const released = releaseByHandle(spec, 'h1', { now: at(1000), cooldownMs: MINUTE });
    spec = deepFreeze(released.block);
    expect(spec.releasedAt).toEqual({ 2: at(1000).toISOString() });
    expect(spec.unallocated.at(-1)).toBe(2);
    // Fill the block except the cooling address.
    const fill = assignAddresses(spec, { handleId: 'bulk', count: 100, now: at(2000), cooldownMs: MINUTE });
    expect(fill.assigned).toHaveLength(28);
    expect(fill.coolingDown).toBe(1);
    expect(fill.nextAvailableAt).toEqual(at(1000 + MINUTE));
    expect(fill.block.unallocated).toEqual([2]);
    expect(availableCount(fill.block, { now: at(2000), cooldownMs: MINUTE })).toBe(0);
    expect(coolingUntil(fill.block, 2, { now: at(2000), cooldownMs: MINUTE })).toEqual(at(1000 + MINUTE));
    const early = assignAddresses(fill.block, { handleId: 'late', now: at(1000 + MINUTE - 1), cooldownMs: MINUTE });
    expect(early.assigned).toEqual([]);
    const onTime = assignAddresses(fill.block, { handleId: 'late', now: at(1000 + MINUTE), cooldownMs: MINUTE });
    expect(onTime.assigned[0]?.address).toBe('172.16.3.2');
    expect(onTime.block.releasedAt).toBeUndefined();
  });

  it('takes the first address whose cooldown has passed, in unallocated order', () => {
    let spec = deepFreeze(newBlockSpec(1, '10.0.0.0/29', null));
    const all = assignAddresses(spec, { handleId: 'a', count: 8, now: T0, cooldownMs: MINUTE });
    spec = deepFreeze(all.block);
    spec = deepFreeze(releaseOrdinals(spec, [5], { now: at(0), cooldownMs: MINUTE }).block);
    spec = deepFreeze(releaseOrdinals(spec, [1], { now: at(30_000), cooldownMs: MINUTE }).block);
    expect(spec.unallocated).toEqual([5, 1]);
    const r = assignAddresses(spec, { handleId: 'b', now: at(MINUTE + 10), cooldownMs: MINUTE });
    expect(r.assigned[0]?.ordinal).toBe(5);
    expect(r.block.releasedAt).toEqual({ 1: at(30_000).toISOString() });
    const r2 = assignAddresses(spec, { handleId: 'b', now: at(MINUTE + 40_000), cooldownMs: MINUTE });
    expect(r2.assigned[0]?.ordinal).toBe(5);
    expect(r2.block.releasedAt).toBeUndefined();
  });

  it('with cooldown 0 behaves like the original FIFO and writes no releasedAt', () => {
    let spec = assignOne(freshFirst(), 'h1').spec;
    spec = deepFreeze(releaseByHandle(spec, 'h1', NO_COOLDOWN).block);
    expect(spec.releasedAt).toBeUndefined();
    expect('releasedAt' in spec).toBe(false);
    const withStale = deepFreeze({ ...spec, releasedAt: { 2: T0.toISOString() } });
    const after = assignAddresses(withStale, { handleId: 'x', count: 30, ...NO_COOLDOWN });
    expect(after.assigned.at(-1)?.ordinal).toBe(2);
    expect('releasedAt' in after.block).toBe(false);
  });

  it('refuses a cooling fixed IP unless allowed, saying until when', () => {
    let spec = assignOne(freshFirst(), 'h1', T0, MINUTE).spec;
    spec = deepFreeze(releaseByHandle(spec, 'h1', { now: T0, cooldownMs: MINUTE }).block);
    const error = catchError(() => assignFixedAddress(spec, { handleId: 'h2', address: '172.16.3.2', now: at(10), cooldownMs: MINUTE }));
    expect(error).toBeInstanceOf(FixedIpCoolingDownError);
    expect((error as FixedIpCoolingDownError).until).toEqual(at(MINUTE));
    expect((error as Error).message).toContain(at(MINUTE).toISOString());
    expect((error as Error).message).toContain('cooling down');
    const allowed = assignFixedAddress(spec, { handleId: 'h2', address: '172.16.3.2', now: at(10), cooldownMs: MINUTE, allowCoolingDown: true });
    expect(allowed.assigned.address).toBe('172.16.3.2');
    expect(allowed.block.releasedAt).toBeUndefined();
    expect(assignFixedAddress(spec, { handleId: 'h2', address: '172.16.3.2', now: at(MINUTE), cooldownMs: MINUTE }).alreadyOwned).toBe(false);
  });

  it('treats an unreadable release time as expired and reports it', () => {
    const spec = deepFreeze({ ...freshFirst(), unallocated: [2], allocations: [0, 0, null, ...new Array<number>(29).fill(1)], attributes: [...freshFirst().attributes, { handle_id: 'x' }], releasedAt: { 2: 'yesterday' } });
    expect(checkBlock(spec).map((p) => p.kind)).toEqual(['BadReleasedAt']);
    expect(assignAddresses(spec, { handleId: 'h', now: T0, cooldownMs: MINUTE }).assigned[0]?.ordinal).toBe(2);
  });

  it('describes the use of an address', () => {
    let spec = assignOne(freshFirst(), 'h1', T0, MINUTE).spec;
    spec = assignOne(spec, 'h2', T0, MINUTE).spec;
    spec = deepFreeze(releaseByHandle(spec, 'h1', { now: T0, cooldownMs: MINUTE }).block);
    const opts = { now: at(5), cooldownMs: MINUTE };
    expect(addressUse(spec, '172.16.3.1', opts)).toEqual({ state: 'reserved' });
    expect(addressUse(spec, '172.16.3.3', opts)).toMatchObject({ state: 'allocated', handleId: 'h2' });
    expect(addressUse(spec, '172.16.3.2', opts)).toEqual({ state: 'free', coolingUntil: at(MINUTE) });
    expect(addressUse(spec, '172.16.3.9', opts)).toEqual({ state: 'free', coolingUntil: undefined });
  });
});

describe('block invariant checker', () => {
  it('finds nothing in sound blocks and reports each kind of damage', () => {
    expect(checkBlock(freshFirst())).toEqual([]);
    const spec = freshFirst();
    const damaged: IPAMBlockSpec = {
      ...spec,
      allocations: [0, 0, 7, null, ...spec.allocations.slice(4)],
      unallocated: [2, 4, 4, 99, ...range(5, 30)],
    };
    const kinds = checkBlock(damaged).map((p) => p.kind).sort();
    expect(kinds).toEqual(['BadAttributeIndex', 'BadFreeOrdinal', 'DuplicateFreeOrdinal', 'FreeButAllocated', 'LostOrdinal', 'LostOrdinal']);
    expect(checkBlock({ ...spec, cidr: 'x' }).map((p) => p.kind)).toEqual(['BadCidr']);
    expect(checkBlock({ ...spec, allocations: [] }).map((p) => p.kind)).toEqual(['AllocationsLength']);
  });

  it('never hands out an ordinal that is listed free but allocated', () => {
    const spec = deepFreeze({ ...freshFirst(), unallocated: [1, 2, 3] });
    const result = assignAddresses(spec, { handleId: 'h', count: 3, ...NO_COOLDOWN });
    expect(result.assigned.map((a) => a.ordinal)).toEqual([2, 3]);
    expect(result.block.unallocated).toEqual([1]);
  });

  it('releases chosen ordinals and keeps rows still in use', () => {
    const two = assignAddresses(freshFirst(), { handleId: 'h', count: 1, secondary: { a: '1' }, ...NO_COOLDOWN });
    const spec = deepFreeze({ ...two.block, allocations: two.block.allocations.map((a, i) => (i === 3 ? 1 : a)), unallocated: two.block.unallocated.filter((o) => o !== 3) });
    expect(checkBlock(spec)).toEqual([]);
    const r = releaseOrdinals(spec, [3, 0, 9, 40], NO_COOLDOWN);
    expect(r.released.map((a) => a.ordinal)).toEqual([3]);
    expect(r.block.attributes).toHaveLength(2);
    const r2 = releaseOrdinals(r.block, [2], NO_COOLDOWN);
    expect(r2.block.attributes).toHaveLength(1);
    expect(checkBlock(r2.block)).toEqual([]);
    expect(releaseOrdinals(r2.block, [2], NO_COOLDOWN).changed).toBe(false);
  });
});

describe('timestamps', () => {
  it('formats like Go time.Time.String() in UTC and parses both styles', () => {
    expect(formatGoTimestamp(new Date('2025-03-03T08:01:02.000Z'))).toBe('2025-03-03 08:01:02 +0000 UTC');
    expect(formatGoTimestamp(new Date('2025-03-03T08:01:02.120Z'))).toBe('2025-03-03 08:01:02.12 +0000 UTC');
    expect(parseTimestamp('2025-03-03 08:01:02.123456789 +0000 UTC')).toEqual(new Date('2025-03-03T08:01:02.123Z'));
    expect(parseTimestamp('2025-03-03 16:01:02 +0800 CST')).toEqual(new Date('2025-03-03T08:01:02Z'));
    expect(parseTimestamp('2025-03-03T08:01:02Z')).toEqual(new Date('2025-03-03T08:01:02Z'));
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });
});
