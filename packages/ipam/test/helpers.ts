import type { IPAMBlock, IPPool } from '../src/index.ts';
import { missingBlocks } from '../src/index.ts';

/** Freezes an object graph so that any mutation by the code under test throws (ESM code is strict). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** An IPPool of type local. */
export function pool(name: string, cidr: string, rangeStart?: string, rangeEnd?: string, blockSize?: number): IPPool {
  return {
    metadata: { name },
    spec: {
      type: 'local',
      cidr,
      ...(rangeStart === undefined ? {} : { rangeStart }),
      ...(rangeEnd === undefined ? {} : { rangeEnd }),
      ...(blockSize === undefined ? {} : { blockSize }),
      vlanConfig: { vlanId: 0, master: '' },
      dns: {},
    },
  };
}

/** The spec's running example: vxnet-abc1234, 172.16.3.0/24, range .2–.242. */
export function runningPool(blockSize = 27): IPPool {
  return pool('vxnet-abc1234', '172.16.3.0/24', '172.16.3.2', '172.16.3.242', blockSize);
}

/** All blocks of a pool, keyed by the last octet of their start address. */
export function blocksByStart(p: IPPool): Map<string, IPAMBlock> {
  return new Map(missingBlocks(p, []).map((b) => [b.spec.cidr.split('/')[0]?.split('.')[3] ?? '', b]));
}

export function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('unexpected undefined');
  return value;
}

export const T0 = new Date('2025-03-03T08:01:02.123Z');
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** Runs `fn` and returns what it threw; fails when it did not throw. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
