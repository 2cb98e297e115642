import { describe, expect, it, vi } from 'vitest';
import { KeyedLock, SharedExclusiveGate, UndoStack, describeUndoFailures, errorText } from '../src/index.ts';

describe('KeyedLock', () => {
  it('serialises one key, runs other keys in parallel, and forgets idle keys', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = lock.run('vxnet-a', async () => {
      order.push('a1 start');
      await new Promise<void>((r) => (releaseFirst = r));
      order.push('a1 end');
    });
    const second = lock.run('vxnet-a', async () => {
      order.push('a2');
    });
    await lock.run('vxnet-b', async () => {
      order.push('b');
    });
    expect(order).toEqual(['a1 start', 'b']);
    expect(lock.busy('vxnet-a')).toBe(true);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
    expect(lock.size).toBe(0);
  });

  it('a failing holder neither blocks the next one nor leaks its error to it', async () => {
    const lock = new KeyedLock();
    const failed = lock.run('k', () => Promise.reject(new Error('boom')));
    const next = lock.run('k', () => Promise.resolve(42));
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe(42);
  });
});

describe('SharedExclusiveGate', () => {
  it('runs shared holders together; an exclusive one waits for them and holds new ones back until it is done', async () => {
    const gate = new SharedExclusiveGate();
    const order: string[] = [];
    let releaseShared!: () => void;
    const held = gate.shared(async () => {
      order.push('s1 start');
      await new Promise<void>((r) => (releaseShared = r));
      order.push('s1 end');
    });
    await gate.shared(async () => {
      order.push('s2 (alongside s1)');
    });
    let releaseExclusive!: () => void;
    const exclusive = gate.exclusive(async () => {
      order.push('x start');
      await new Promise<void>((r) => (releaseExclusive = r));
      order.push('x end');
    });
    const late = gate.shared(async () => {
      order.push('s3');
    });
    expect(gate.waiting).toBe(1);
    releaseShared();
    await held;
    await vi.waitFor(() => expect(order).toContain('x start'), { timeout: 20_000 });
    expect(order).not.toContain('s3');
    releaseExclusive();
    await Promise.all([exclusive, late]);
    expect(order).toEqual(['s1 start', 's2 (alongside s1)', 's1 end', 'x start', 'x end', 's3']);
    expect(gate.waiting).toBe(0);
  });

  it('lets a failing holder go without keeping the gate', async () => {
    const gate = new SharedExclusiveGate();
    await expect(gate.exclusive(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.shared(() => Promise.reject(new Error('bang')))).rejects.toThrow('bang');
    await expect(gate.exclusive(async () => 'free')).resolves.toBe('free');
  });
});

describe('UndoStack', () => {
  it('runs steps newest first, tries each one, and reports the failures', async () => {
    const undo = new UndoStack();
    const ran: string[] = [];
    undo.push('release-ip', async () => void ran.push('release-ip'));
    undo.push('delete-veth', () => Promise.reject(new Error('link busy')));
    undo.push('delete-route', async () => void ran.push('delete-route'));
    expect(undo.size).toBe(3);
    const failures = await undo.unwind();
    expect(ran).toEqual(['delete-route', 'release-ip']);
    expect(failures.map((f) => f.what)).toEqual(['delete-veth']);
    expect(describeUndoFailures(failures)).toBe('delete-veth: link busy');
    expect(undo.size).toBe(0);
  });

  it('clear() forgets the steps of an operation that succeeded', async () => {
    const undo = new UndoStack();
    let ran = 0;
    undo.push('x', async () => void (ran += 1));
    undo.clear();
    expect(await undo.unwind()).toEqual([]);
    expect(ran).toBe(0);
  });
});

it('errorText', () => {
  expect(errorText(new Error('m'))).toBe('m');
  expect(errorText('plain')).toBe('plain');
  expect(errorText(7)).toBe('7');
});
