import { describe, expect, it } from 'vitest';
import type { IPPool } from '../src/index.ts';
import {
  assertPoolAllocatable,
  FINALIZER_IPPOOL,
  ippoolLabels,
  isAllocatablePoolType,
  LABEL_POOL_ID,
  LABEL_POOL_NAME,
  LABEL_POOL_TYPE,
  NoQualifiedPoolError,
  poolAddressCounts,
  poolIdOf,
  RESERVED_HANDLE,
  UnknownPoolTypeError,
} from '../src/index.ts';
import { catchError, pool, runningPool } from './helpers.ts';

describe('pools', () => {
  it('keeps the compat names', () => {
    expect([LABEL_POOL_NAME, LABEL_POOL_TYPE, LABEL_POOL_ID, FINALIZER_IPPOOL, RESERVED_HANDLE]).toEqual([
      'ippool.network.qingcloud.com/name',
      'ippool.network.qingcloud.com/type',
      'ippool.network.qingcloud.com/id',
      'finalizers.network.qingcloud.com/ippool',
      'kubesphere-reserved-handle',
    ]);
  });

  it('pool-level counts', () => {
    const counts = poolAddressCounts({ cidr: '192.168.0.1/24', rangeStart: '192.168.0.10', rangeEnd: '192.168.0.250' });
    expect(counts).toEqual({ numAddresses: 256, startReserved: 10, endReserved: 5 });
    expect(counts.startReserved + counts.endReserved).toBe(15);
    expect(poolAddressCounts({ cidr: '10.0.0.0/24' })).toEqual({ numAddresses: 256, startReserved: 0, endReserved: 0 });
    // Go ignores the failed lookup of an out-of-pool bound and takes ordinal 0.
    expect(poolAddressCounts({ cidr: '10.0.0.0/24', rangeStart: '10.0.1.5', rangeEnd: '10.0.9.9' })).toEqual({
      numAddresses: 256,
      startReserved: 0,
      endReserved: 255,
    });
  });

  it('pool IDs and allocatable types', () => {
    const id = (type: string, vlanId = 0): number => poolIdOf({ type, vlanConfig: { vlanId, master: '' } });
    expect([id('local'), id('calico'), id('porter'), id('vlan', 100), id('pod'), id('other')]).toEqual([
      4100, 4099, 4098, 101, 0, 0,
    ]);
    expect(['vlan', 'porter', 'pod', 'local'].every(isAllocatablePoolType)).toBe(true);
    expect(isAllocatablePoolType('calico')).toBe(false);
    const calico: IPPool = { ...runningPool(), spec: { ...runningPool().spec, type: 'calico' } };
    const error = catchError(() => assertPoolAllocatable(calico));
    expect(error).toBeInstanceOf(UnknownPoolTypeError);
    expect((error as Error).message).toMatch(/^unknow ippool type/);
  });

  it('refuses disabled pools', () => {
    const disabled: IPPool = { ...runningPool(), spec: { ...runningPool().spec, disabled: true } };
    const error = catchError(() => assertPoolAllocatable(disabled));
    expect(error).toBeInstanceOf(NoQualifiedPoolError);
    expect((error as Error).message).toMatch(/^cannot find a qualified ippool: pool vxnet-abc1234 is disabled/);
    expect(() => assertPoolAllocatable(runningPool())).not.toThrow();
  });

  it('labels of the IPPool controller', () => {
    expect(ippoolLabels({ ...pool('vxnet-abc1234', '172.16.3.0/24'), metadata: { name: 'vxnet-abc1234', labels: { controller: 'vxnet-abc1234' } } })).toEqual({
      controller: 'vxnet-abc1234',
      [LABEL_POOL_NAME]: 'vxnet-abc1234',
      [LABEL_POOL_TYPE]: 'local',
      [LABEL_POOL_ID]: '4100',
    });
  });
});
