import { describe, expect, it } from 'vitest';
import {
  blockCount,
  blockReservation,
  blocksOfPool,
  compareBlockNames,
  DEFAULT_BLOCK_SIZE,
  freeCount,
  generateBlockCidrs,
  InvalidAddressError,
  InvalidBlockSizeError,
  InvalidCidrError,
  InvalidPoolSpecError,
  LABEL_POOL_NAME,
  missingBlocks,
  newBlockSpec,
  normalisePoolCidr,
  overlappingPools,
  parseBlockName,
  RESERVED_ATTRIBUTE,
  reservedCount,
  resolveBlockSize,
  sortBlocks,
  validateIPPoolSpec,
  validateVxNetPoolSpec,
} from '../src/index.ts';
import { blocksByStart, catchError, must, pool, runningPool } from './helpers.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('block generation', () => {
  it('cuts a /24 at 27 into 8 ascending blocks with compat names', () => {
    const cidrs = generateBlockCidrs('172.16.3.0/24', 27);
    expect(cidrs.map((c) => c.split('/')[0]?.split('.')[3])).toEqual(['0', '32', '64', '96', '128', '160', '192', '224']);
    const blocks = missingBlocks(runningPool(27), []);
    expect(blocks.map((b) => b.metadata.name)).toEqual([
      '4100-172-16-3-0-27',
      '4100-172-16-3-32-27',
      '4100-172-16-3-64-27',
      '4100-172-16-3-96-27',
      '4100-172-16-3-128-27',
      '4100-172-16-3-160-27',
      '4100-172-16-3-192-27',
      '4100-172-16-3-224-27',
    ]);
    expect(blocks.every((b) => b.metadata.labels?.[LABEL_POOL_NAME] === 'vxnet-abc1234' && b.spec.id === 4100)).toBe(true);
  });

  it('counts blocks per size', () => {
    expect(generateBlockCidrs('172.16.3.0/24', 26)).toHaveLength(4);
    expect(generateBlockCidrs('172.16.3.0/24', 28)).toHaveLength(16);
    expect(generateBlockCidrs('172.16.0.0/22', 26)).toHaveLength(16);
    expect(blockCount('172.16.0.0/22', 26)).toBe(16);
    expect(generateBlockCidrs('172.16.3.0/24')).toHaveLength(4);
    expect(DEFAULT_BLOCK_SIZE).toBe(26);
    expect(generateBlockCidrs('10.0.0.0/30', 32)).toEqual(['10.0.0.0/32', '10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']);
  });

  it('masks an unmasked pool CIDR so blocks stay aligned', () => {
    expect(normalisePoolCidr('192.168.0.1/24')).toBe('192.168.0.0/24');
    expect(generateBlockCidrs('192.168.0.1/24', 27)[1]).toBe('192.168.0.32/27');
  });

  it('creates only the blocks that are missing', () => {
    const blocks = missingBlocks(runningPool(27), ['4100-172-16-3-0-27', '4100-172-16-3-224-27']);
    expect(blocks).toHaveLength(6);
    expect(blocks[0]?.metadata.name).toBe('4100-172-16-3-32-27');
  });
});

describe('block size validation', () => {
  it.each([
    [0, '172.16.3.0/24'],
    [23, '172.16.3.0/24'],
    [33, '172.16.3.0/24'],
    [26.5, '172.16.3.0/24'],
    [undefined, '172.16.3.0/28'],
  ])('rejects blockSize %s for %s naming the field', (size, cidr) => {
    const error = catchError(() => resolveBlockSize(size, cidr));
    expect(error).toBeInstanceOf(InvalidBlockSizeError);
    expect((error as InvalidBlockSizeError).field).toBe('spec.blockSize');
    expect((error as Error).message).toMatch(/^spec\.blockSize .* from \d+ \(the pool's prefix length\) to 32/);
    expect(catchError(() => generateBlockCidrs(cidr, size))).toBeInstanceOf(InvalidBlockSizeError);
  });

  it('accepts prefix ≤ blockSize ≤ 32 and defaults to 26', () => {
    expect(resolveBlockSize(undefined, '172.16.3.0/24')).toBe(26);
    expect(resolveBlockSize(24, '172.16.3.0/24')).toBe(24);
    expect(resolveBlockSize(32, '172.16.3.0/24')).toBe(32);
    expect(resolveBlockSize(27, '172.16.3.0/24', 'spec.vxnetPool.blockSize')).toBe(27);
  });

  it('validates IPPool specs: unmasked CIDR, /32, block size, range', () => {
    const ok = runningPool().spec;
    expect(validateIPPoolSpec(ok)).toEqual([]);
    const unmasked = validateIPPoolSpec({ ...ok, cidr: '172.16.3.1/24' });
    expect(unmasked).toHaveLength(1);
    expect(unmasked[0]).toBeInstanceOf(InvalidCidrError);
    expect(unmasked[0]?.message).toContain('172.16.3.0/24');
    expect(validateIPPoolSpec({ ...ok, cidr: '172.16.3.1/32', rangeStart: '', rangeEnd: '' }).map((e) => e.code)).toContain('InvalidCidr');
    expect(validateIPPoolSpec({ ...ok, blockSize: 0 })[0]).toBeInstanceOf(InvalidBlockSizeError);
    expect(validateIPPoolSpec({ ...ok, blockSize: 20 })[0]).toBeInstanceOf(InvalidBlockSizeError);
    const badRange = validateIPPoolSpec({ ...ok, rangeStart: '172.16.3.300', rangeEnd: '172.16.4.1' });
    expect(badRange[0]).toBeInstanceOf(InvalidAddressError);
    expect(badRange[0]?.message).toContain('spec.rangeStart');
    expect(badRange[1]).toBeInstanceOf(InvalidPoolSpecError);
    expect((badRange[1] as InvalidPoolSpecError).field).toBe('spec.rangeEnd');
    const inverted = validateIPPoolSpec({ ...ok, rangeStart: '172.16.3.200', rangeEnd: '172.16.3.100' });
    expect((inverted[0] as InvalidPoolSpecError).field).toBe('spec.rangeEnd');
    expect((validateIPPoolSpec({ ...ok, type: 'bogus' })[0] as InvalidPoolSpecError).field).toBe('spec.type');
    const vlan = validateIPPoolSpec({ ...ok, type: 'vlan', vlanConfig: { vlanId: 5000, master: 'eth0' } });
    expect((vlan[0] as InvalidPoolSpecError).field).toBe('spec.vlanConfig.vlanId');
  });

  it('validates VxNetPool specs', () => {
    expect(validateVxNetPoolSpec({ vxnets: [{ name: 'vxnet-abc1234' }], blockSize: 27 })).toEqual([]);
    const problems = validateVxNetPoolSpec({
      vxnets: [{ name: 'vxnet-a' }, { name: 'vxnet-a' }, { name: 'Bad Name' }],
      blockSize: 0,
      customReservedIPCount: -1,
    });
    expect(problems.map((p) => p.message.split(' ')[0])).toEqual([
      'spec.vxnets[1].name',
      'spec.vxnets[2].name',
      'spec.blockSize',
      'spec.customReservedIPCount',
    ]);
    expect(validateVxNetPoolSpec({ vxnets: [], blockSize: 26 })[0]?.message).toMatch(/^spec\.vxnets is empty/);
  });

  it('finds overlapping pools of the same ID', () => {
    const a = pool('a', '10.0.0.0/16');
    const b = pool('b', '10.0.3.0/24');
    const c = pool('c', '10.1.0.0/24');
    expect(overlappingPools(b, [a, b, c])).toEqual(['a']);
    expect(overlappingPools(c, [a, b, c])).toEqual([]);
  });
});

describe('per-block reservation', () => {
  it('running example at 27', () => {
    const blocks = blocksByStart(runningPool(27));
    const first = must(blocks.get('0')).spec;
    expect(first.allocations.slice(0, 3)).toEqual([0, 0, null]);
    expect(first.unallocated).toEqual(range(2, 31));
    const last = must(blocks.get('224')).spec;
    expect(reservedCount(last)).toBe(13);
    expect(last.unallocated).toEqual(range(0, 18));
    expect(range(19, 31).every((o) => last.allocations[o] === 0)).toBe(true);
    for (const start of ['32', '64', '96', '128', '160', '192']) expect(freeCount(must(blocks.get(start)).spec)).toBe(32);
    const all = [...blocks.values()].map((b) => b.spec);
    expect(all.reduce((n, b) => n + reservedCount(b), 0)).toBe(15);
    expect(all.reduce((n, b) => n + freeCount(b), 0)).toBe(241);
  });

  it('the fresh first block JSON', () => {
    const first = must(blocksByStart(runningPool(27)).get('0')).spec;
    expect(JSON.parse(JSON.stringify(first))).toEqual({
      id: 4100,
      cidr: '172.16.3.0/27',
      allocations: [0, 0, ...new Array<null>(30).fill(null)],
      unallocated: range(2, 31),
      attributes: [{ handle_id: 'kubesphere-reserved-handle', secondary: { note: 'kubesphere reserved' } }],
      deleted: false,
    });
  });

  it('running example at 26', () => {
    const blocks = [...blocksByStart(runningPool(26)).values()].map((b) => b.spec);
    expect(blocks.map(freeCount)).toEqual([62, 64, 64, 51]);
    expect(blocks.map(reservedCount)).toEqual([2, 0, 0, 13]);
  });

  it('VLAN pool .2–.218 at 26', () => {
    const blocks = blocksByStart(pool('vxnet-vlan001', '192.168.10.0/24', '192.168.10.2', '192.168.10.218', 26));
    const last = must(blocks.get('192')).spec;
    expect([reservedCount(last), freeCount(last)]).toEqual([37, 27]);
    const all = [...blocks.values()].map((b) => b.spec);
    expect(all.reduce((n, b) => n + reservedCount(b), 0)).toBe(39);
    expect(all.reduce((n, b) => n + freeCount(b), 0)).toBe(217);
  });

  it('reserves blocks wholly below rangeStart', () => {
    const blocks = blocksByStart(pool('p', '10.0.0.0/24', '10.0.0.100', '10.0.0.200', 26));
    const counts = (start: string): [number, number] => {
      const spec = must(blocks.get(start)).spec;
      return [reservedCount(spec), freeCount(spec)];
    };
    expect(counts('0')).toEqual([64, 0]);
    expect(counts('64')).toEqual([36, 28]);
    expect(counts('128')).toEqual([0, 64]);
    expect(counts('192')).toEqual([55, 9]);
    expect(blockReservation('10.0.0.0/26', { rangeStart: '10.0.0.100', rangeEnd: '10.0.0.200' })).toEqual({
      startReserved: 64,
      endReserved: 0,
    });
    expect(blockReservation('10.0.0.0/26', {})).toEqual({ startReserved: 0, endReserved: 0 });
  });

  it('every block has the reserved row first, reserved ordinals point at it', () => {
    for (const block of blocksByStart(runningPool(27)).values()) {
      expect(block.spec.attributes).toEqual([RESERVED_ATTRIBUTE]);
      expect(block.spec.allocations.every((a) => a === null || a === 0)).toBe(true);
    }
  });

  it('without a reservation descriptor everything is free and attributes are empty', () => {
    const spec = newBlockSpec(4100, '10.0.0.0/30', null);
    expect(spec).toEqual({ id: 4100, cidr: '10.0.0.0/30', allocations: [null, null, null, null], unallocated: [0, 1, 2, 3], attributes: [], deleted: false });
  });

  it('names the bad range field', () => {
    const error = catchError(() => blockReservation('10.0.0.0/26', { rangeStart: 'x' }));
    expect(error).toBeInstanceOf(InvalidAddressError);
    expect((error as InvalidAddressError).field).toBe('spec.rangeStart');
  });
});

describe('block order', () => {
  it('sorts numerically, not as strings', () => {
    const blocks = missingBlocks(runningPool(26), []);
    const shuffled = [blocks[3], blocks[1], blocks[0], blocks[2]].map(must);
    expect(sortBlocks(shuffled).map((b) => b.metadata.name)).toEqual([
      '4100-172-16-3-0-26',
      '4100-172-16-3-64-26',
      '4100-172-16-3-128-26',
      '4100-172-16-3-192-26',
    ]);
    const names = ['4100-172-16-3-64-26', 'garbage', '4100-172-16-3-192-26', '4100-172-16-3-0-26', '4100-172-16-3-128-26'];
    expect([...names].sort(compareBlockNames)).toEqual([
      '4100-172-16-3-0-26',
      '4100-172-16-3-64-26',
      '4100-172-16-3-128-26',
      '4100-172-16-3-192-26',
      'garbage',
    ]);
    expect(parseBlockName('4100-172-16-3-64-26')).toEqual({ id: 4100, cidr: '172.16.3.64/26' });
    expect(parseBlockName('4100-172-16-3-64')).toBeUndefined();
  });

  it('selects a pool\'s blocks by label', () => {
    const mine = missingBlocks(runningPool(26), []);
    const other = missingBlocks(pool('vxnet-other', '10.0.0.0/24', undefined, undefined, 26), []);
    expect(blocksOfPool('vxnet-abc1234', [...other, ...mine].reverse())).toEqual(mine);
  });
});
