import { describe, expect, it } from 'vitest';
import {
  assignAddresses,
  blockKey,
  decrementHandle,
  HandleNotLinkedError,
  HandleUnderflowError,
  handleCount,
  incrementHandle,
  InvalidArgumentError,
  isHandleEmpty,
  newHandle,
  podHandleId,
  releaseByHandle,
  removeBlockFromHandle,
} from '../src/index.ts';
import { blocksByStart, catchError, deepFreeze, must, runningPool, T0 } from './helpers.ts';

const KEY = '4100-172.16.3.0/27';

describe('handle arithmetic', () => {
  it('+10, −20, then −1 fails', () => {
    let spec = deepFreeze(incrementHandle(newHandle('h').spec, KEY, 10));
    spec = deepFreeze(incrementHandle(spec, KEY, 10));
    expect(handleCount(spec, KEY)).toBe(20);
    spec = deepFreeze(decrementHandle(spec, KEY, 20));
    expect(spec.block).toEqual({});
    expect(isHandleEmpty(spec)).toBe(true);
    const error = catchError(() => decrementHandle(spec, KEY, 1));
    expect(error).toBeInstanceOf(HandleNotLinkedError);
    expect((error as Error).message).toBe(`Tried to decrement block ${KEY} by 1 but it isn't linked to handle h`);
  });

  it('refuses to go below zero with the Go text', () => {
    const spec = deepFreeze(incrementHandle(newHandle('h').spec, KEY, 2));
    const error = catchError(() => decrementHandle(spec, KEY, 3));
    expect(error).toBeInstanceOf(HandleUnderflowError);
    expect((error as HandleUnderflowError).current).toBe(2);
    expect((error as Error).message).toBe(`Tried to decrement block ${KEY} by 3 but it only has 2 addresses on handle h`);
    expect(handleCount(decrementHandle(spec, KEY, 1), KEY)).toBe(1);
  });

  it('refuses non-integer and negative amounts', () => {
    expect((catchError(() => incrementHandle(newHandle('h').spec, KEY, -1)) as InvalidArgumentError).field).toBe('amount');
    expect(catchError(() => decrementHandle(newHandle('h').spec, KEY, 0.5))).toBeInstanceOf(InvalidArgumentError);
  });

  it('a release can always unlink the block', () => {
    const spec = deepFreeze({ ...newHandle('h').spec, block: { [KEY]: 3, other: 1 } });
    expect(removeBlockFromHandle(spec, KEY).block).toEqual({ other: 1 });
    expect(removeBlockFromHandle(spec, 'absent')).toBe(spec);
  });

  it('the handle of one pod allocation', () => {
    const handleId = podHandleId('default', 'nginx', 'abc123').id;
    const block = deepFreeze(must(blocksByStart(runningPool(27)).get('0')).spec);
    const assigned = assignAddresses(block, { handleId, now: T0, cooldownMs: 0 });
    const handle = newHandle(handleId);
    const after = incrementHandle(handle.spec, blockKey(block.id, block.cidr), assigned.assigned.length);
    expect(handle.metadata.name).toBe('default-nginx-abc123');
    expect(after).toEqual({ handleID: 'default-nginx-abc123', block: { '4100-172.16.3.0/27': 1 }, deleted: false });
    const released = releaseByHandle(assigned.block, handleId, { now: T0, cooldownMs: 0 });
    const emptied = decrementHandle(after, blockKey(block.id, block.cidr), released.released.length);
    expect(isHandleEmpty(emptied)).toBe(true);
  });
});
