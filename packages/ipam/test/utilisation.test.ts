import { describe, expect, it } from 'vitest';
import type { IPAMBlock } from '../src/index.ts';
import { assignAddresses, blockUtilisation, ippoolStatus, missingBlocks, poolsWithFreeAddresses, poolUtilisation } from '../src/index.ts';
import { must, pool, runningPool, T0 } from './helpers.ts';

describe('utilisation', () => {
  it('running example fresh and after 3 allocations in .0/27', () => {
    const p = runningPool(27);
    const blocks = missingBlocks(p, []);
    expect(poolUtilisation(p, blocks)).toEqual({ capacity: 256, reserved: 15, allocated: 0, unallocated: 241 });
    let first = blocks[0]?.spec;
    if (first === undefined) throw new Error('no block');
    for (const h of ['a', 'b', 'c']) first = assignAddresses(first, { handleId: h, now: T0, cooldownMs: 0 }).block;
    const after: IPAMBlock[] = blocks.map((b, i) => (i === 0 ? { ...b, spec: first } : b));
    expect(poolUtilisation(p, after)).toEqual({ capacity: 256, reserved: 15, allocated: 3, unallocated: 238 });
    expect(blockUtilisation(first)).toEqual({ capacity: 32, reserved: 2, allocated: 3, unallocated: 27 });
    expect(ippoolStatus(poolUtilisation(p, after))).toEqual({ capacity: 256, allocations: 3, unallocated: 238, reserved: 15, synced: true });
  });

  it('a pool with no blocks uses the pool-level reservation', () => {
    expect(poolUtilisation(runningPool(27), [])).toEqual({ capacity: 256, reserved: 15, allocated: 0, unallocated: 241 });
  });

  it('pool unallocated counts blocks wholly below rangeStart as reserved (101)', () => {
    const p = pool('p', '10.0.0.0/24', '10.0.0.100', '10.0.0.200', 26);
    expect(poolUtilisation(p, missingBlocks(p, []))).toEqual({ capacity: 256, reserved: 155, allocated: 0, unallocated: 101 });
  });

  it('counts addresses of blocks not created yet as unallocated and ignores other pools\' blocks', () => {
    const p = runningPool(27);
    const some = missingBlocks(p, []).slice(0, 2);
    const other = missingBlocks(pool('x', '10.0.0.0/24', '10.0.0.2', '10.0.0.3', 27), []);
    expect(poolUtilisation(p, [...some, ...other])).toEqual({ capacity: 256, reserved: 2, allocated: 0, unallocated: 254 });
  });

  it('a Default pool with exactly one free address is used, in configured order', () => {
    const one = pool('one', '10.0.0.0/30', '10.0.0.1', '10.0.0.1', 30);
    const full = pool('full', '10.0.1.0/30', '10.0.1.1', '10.0.1.1', 30);
    const disabled = { ...pool('off', '10.0.2.0/24'), spec: { ...pool('off', '10.0.2.0/24').spec, disabled: true } };
    const fullBlock = must(missingBlocks(full, [])[0]);
    const taken = { ...fullBlock, spec: assignAddresses(fullBlock.spec, { handleId: 'h', now: T0, cooldownMs: 0 }).block };
    const blocks = [...missingBlocks(one, []), taken];
    expect(poolUtilisation(one, blocks).unallocated).toBe(1);
    const chosen = poolsWithFreeAddresses(['missing', 'full', 'off', 'one', 'vxnet-abc1234'], [runningPool(), one, full, disabled], blocks);
    expect(chosen.map((p) => p.metadata.name)).toEqual(['one', 'vxnet-abc1234']);
  });
});
