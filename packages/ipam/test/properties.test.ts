import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IPAMBlock, IPAMBlockSpec, IPPool } from '../src/index.ts';
import {
  assignAddresses,
  assignFixedAddress,
  blockUtilisation,
  checkBlock,
  FixedIpCoolingDownError,
  FixedIpReservedError,
  FixedIpTakenError,
  formatIPv4,
  handleOrdinals,
  missingBlocks,
  parseCidr,
  parseIPv4,
  poolUtilisation,
  releaseByHandle,
  releaseOrdinals,
} from '../src/index.ts';
import { deepFreeze, pool } from './helpers.ts';

interface Setup {
  readonly pool: IPPool;
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly cooldownMs: number;
}

const setupArb: fc.Arbitrary<Setup> = fc
  .record({
    prefix: fc.integer({ min: 23, max: 30 }),
    extra: fc.integer({ min: 0, max: 3 }),
    base: fc.integer({ min: 0, max: 0xffffffff }),
    startFrac: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    endFrac: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    cooldownMs: fc.constantFrom(0, 1_000, 60_000),
  })
  .map(({ prefix, extra, base, startFrac, endFrac, cooldownMs }) => {
    const size = 2 ** (32 - prefix);
    const network = base - (base % size);
    let start = startFrac === undefined ? undefined : network + Math.floor(startFrac * (size - 1));
    let end = endFrac === undefined ? undefined : network + Math.floor(endFrac * (size - 1));
    if (start !== undefined && end !== undefined && start > end) [start, end] = [end, start];
    const blockSize = Math.min(32, prefix + extra);
    const p = pool(
      'vxnet-prop',
      `${formatIPv4(network)}/${prefix}`,
      start === undefined ? undefined : formatIPv4(start),
      end === undefined ? undefined : formatIPv4(end),
      blockSize,
    );
    return { pool: p, start, end, cooldownMs };
  });

type Command =
  | { readonly kind: 'assign'; readonly handle: number; readonly block: number; readonly count: number }
  | { readonly kind: 'fixed'; readonly handle: number; readonly offset: number; readonly allowCooling: boolean }
  | { readonly kind: 'release'; readonly handle: number }
  | { readonly kind: 'releaseOrdinal'; readonly block: number; readonly ordinal: number }
  | { readonly kind: 'tick'; readonly ms: number };

const handleArb = fc.integer({ min: 0, max: 5 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('assign' as const), handle: handleArb, block: fc.nat(), count: fc.integer({ min: 1, max: 24 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fixed' as const), handle: handleArb, offset: fc.nat(), allowCooling: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), handle: handleArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('releaseOrdinal' as const), block: fc.nat(), ordinal: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 25_000 }) }) },
);

const T0 = Date.parse('2025-03-03T08:00:00Z');

function run(setup: Setup, commands: readonly Command[]): void {
  const { cooldownMs } = setup;
  const cidr = parseCidr(setup.pool.spec.cidr);
  let blocks: IPAMBlock[] = deepFreeze(missingBlocks(setup.pool, []));
  const owners = new Map<number, string>();
  const lastRelease = new Map<number, number>();
  let now = T0;
  const inRange = (a: number): boolean => (setup.start === undefined || a >= setup.start) && (setup.end === undefined || a <= setup.end);
  const cooling = (a: number): boolean => cooldownMs > 0 && lastRelease.has(a) && now < (lastRelease.get(a) ?? 0) + cooldownMs;

  const handOut = (a: number, handle: string): void => {
    expect(owners.has(a), `address ${formatIPv4(a)} handed out twice`).toBe(false);
    expect(a >= cidr.network && a < cidr.network + cidr.size).toBe(true);
    expect(inRange(a), `address ${formatIPv4(a)} is reserved`).toBe(true);
    expect(cooling(a), `address ${formatIPv4(a)} reused within the cooldown`).toBe(false);
    owners.set(a, handle);
  };
  const giveBack = (a: number, handle: string | undefined): void => {
    expect(owners.get(a)).toBe(handle ?? owners.get(a));
    owners.delete(a);
    lastRelease.set(a, now);
  };
  const setBlock = (i: number, spec: IPAMBlockSpec): void => {
    blocks = blocks.map((b, j) => (j === i ? deepFreeze({ ...b, spec }) : b));
  };

  for (const command of commands) {
    const options = { now: new Date(now), cooldownMs };
    switch (command.kind) {
      case 'assign': {
        const i = command.block % blocks.length;
        const block = blocks[i];
        if (block === undefined) break;
        const handle = `h${command.handle}`;
        const result = assignAddresses(block.spec, { handleId: handle, count: command.count, ...options });
        for (const a of result.assigned) handOut(parseIPv4(a.address), handle);
        // Short only when nothing else is available right now.
        if (result.assigned.length < command.count) {
          const left = result.block.unallocated.filter((o) => !cooling(parseCidr(block.spec.cidr).address + o));
          expect(left).toEqual([]);
        }
        setBlock(i, result.block);
        break;
      }
      case 'fixed': {
        const a = cidr.network + (command.offset % cidr.size);
        const i = blocks.findIndex((b) => {
          const c = parseCidr(b.spec.cidr);
          return a >= c.address && a < c.address + c.size;
        });
        const block = blocks[i];
        if (block === undefined) break;
        const handle = `h${command.handle}`;
        const request = { handleId: handle, address: formatIPv4(a), allowCoolingDown: command.allowCooling, ...options };
        const owner = owners.get(a);
        if (owner === handle) {
          expect(assignFixedAddress(block.spec, request).alreadyOwned).toBe(true);
        } else if (owner !== undefined) {
          expect(() => assignFixedAddress(block.spec, request)).toThrow(FixedIpTakenError);
        } else if (!inRange(a)) {
          expect(() => assignFixedAddress(block.spec, request)).toThrow(FixedIpReservedError);
        } else if (cooling(a) && !command.allowCooling) {
          expect(() => assignFixedAddress(block.spec, request)).toThrow(FixedIpCoolingDownError);
        } else {
          const result = assignFixedAddress(block.spec, request);
          if (cooling(a)) lastRelease.delete(a); // explicitly allowed by the caller
          handOut(a, handle);
          setBlock(i, result.block);
        }
        break;
      }
      case 'release': {
        const handle = `h${command.handle}`;
        blocks.forEach((block, i) => {
          const before = handleOrdinals(block.spec, handle).length;
          const result = releaseByHandle(block.spec, handle, options);
          expect(result.released).toHaveLength(before);
          for (const a of result.released) giveBack(parseIPv4(a.address), handle);
          setBlock(i, result.block);
        });
        for (const owner of owners.values()) expect(owner).not.toBe(handle);
        break;
      }
      case 'releaseOrdinal': {
        const i = command.block % blocks.length;
        const block = blocks[i];
        if (block === undefined) break;
        const ordinal = command.ordinal % block.spec.allocations.length;
        const result = releaseOrdinals(block.spec, [ordinal], options);
        for (const a of result.released) giveBack(parseIPv4(a.address), undefined);
        setBlock(i, result.block);
        break;
      }
      case 'tick':
        now += command.ms;
        break;
    }

    let allocated = 0;
    for (const block of blocks) {
      expect(checkBlock(block.spec)).toEqual([]);
      const u = blockUtilisation(block.spec);
      expect(u.allocated + u.unallocated + u.reserved).toBe(u.capacity);
      allocated += u.allocated;
    }
    expect(allocated).toBe(owners.size);
    const pu = poolUtilisation(setup.pool, blocks);
    expect(pu.allocated + pu.unallocated + pu.reserved).toBe(pu.capacity);
    expect(pu.allocated).toBe(owners.size);
    let outside = 0;
    for (let a = cidr.network; a < cidr.network + cidr.size; a++) if (!inRange(a)) outside++;
    expect(pu.reserved).toBe(outside);
  }
}

describe('block IPAM properties', () => {
  it('never hands out an address twice, a reserved one, or one within the cooldown; keeps invariants and sums', () => {
    fc.assert(fc.property(setupArb, fc.array(commandArb, { minLength: 10, maxLength: 80 }), (setup, commands) => run(setup, commands)), {
      numRuns: 200,
    });
  });

  it('with cooldown 0 reuses released addresses only after every other free one (FIFO)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 27, max: 30 }), fc.integer({ min: 1, max: 10 }), (prefix, k) => {
        const p = pool('p', `10.0.0.0/${prefix}`, undefined, undefined, prefix);
        let spec = deepFreeze(missingBlocks(p, [])[0]?.spec);
        if (spec === undefined) return;
        const size = spec.allocations.length;
        const n = Math.min(k, size - 1);
        const opts = { now: new Date(T0), cooldownMs: 0 };
        spec = deepFreeze(assignAddresses(spec, { handleId: 'a', count: n, ...opts }).block);
        spec = deepFreeze(releaseByHandle(spec, 'a', opts).block);
        const order = assignAddresses(spec, { handleId: 'b', count: size, ...opts }).assigned.map((x) => x.ordinal);
        const expected = [...Array.from({ length: size - n }, (_, i) => i + n), ...Array.from({ length: n }, (_, i) => i)];
        expect(order).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
