import { describe, expect, it } from 'vitest';
import { MaxRetriesError, NoPoolOrBlockError, PoolExhaustedError } from '@hostnic/ipam';
import { IpamFailure, addFailureKind, delFailureKind } from '../../src/pods/failures.ts';

describe('failure kinds of the original\'s gauges', () => {
  it('classifies a failed ADD by its step and IPAM error', () => {
    expect(addFailureKind('allocate-ip', new NoPoolOrBlockError('team-a', 'manual'))).toBe(IpamFailure.allocResourceNotFound);
    expect(addFailureKind('allocate-ip', new PoolExhaustedError(['4100-172-16-3-0-27', '4100-172-16-3-32-27']))).toBe(IpamFailure.allocFromBlock);
    expect(addFailureKind('allocate-ip', new PoolExhaustedError(['vxnet-abc1234']))).toBe(IpamFailure.allocFromPool);
    expect(addFailureKind('allocate-ip', new MaxRetriesError(100, 'h', 'IPAMBlock b'))).toBe(IpamFailure.allocFromPool);
    for (const step of ['ensure-nic', 'wire-pod', 'arp-reply', 'record'] as const) expect(addFailureKind(step, new Error('x'))).toBe(IpamFailure.allocFromHost);
    for (const step of ['validate', 'read-pod', 'parse-annotation'] as const) expect(addFailureKind(step, new Error('x'))).toBeUndefined();
  });

  it('classifies a failed DEL', () => {
    expect(delFailureKind('release-ip')).toBe(IpamFailure.freeFromPool);
    expect(delFailureKind('unwire-pod')).toBe(IpamFailure.freeFromHost);
    expect(delFailureKind('record')).toBeUndefined();
  });
});
