import { describe, expect, test } from 'vitest';
import { InvalidOptionError } from '@hostnic/runtime';
import { WorkQueue } from '../../src/kube/workqueue.ts';
import { delay, eventually } from './harness.ts';

/** A promise to resolve from the outside. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('WorkQueue', () => {
  test('a key waits in the queue only once', async () => {
    const queue = new WorkQueue();
    for (const key of ['a', 'b', 'a', 'a', 'b', 'c']) queue.add(key);
    expect(queue.length).toBe(3);
    const seen: string[] = [];
    const stop = new AbortController();
    const running = queue.run(1, async (key) => {
      seen.push(key);
      if (seen.length === 3) stop.abort();
    }, stop.signal);
    await running;
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(queue.length).toBe(0);
  });

  test('a key is never processed by two workers at once; an add during processing runs it again afterwards', async () => {
    const queue = new WorkQueue();
    const stop = new AbortController();
    const inFlight = new Map<string, number>();
    let maxInFlightOfA = 0;
    let runsOfA = 0;
    const firstRun = gate();
    const started = gate();
    const running = queue.run(4, async (key) => {
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      if (key === 'a') {
        maxInFlightOfA = Math.max(maxInFlightOfA, inFlight.get('a') ?? 0);
        runsOfA++;
        if (runsOfA === 1) {
          started.open();
          await firstRun.promise;
        }
      }
      await delay(1);
      inFlight.set(key, (inFlight.get(key) ?? 0) - 1);
    }, stop.signal);
    queue.add('a');
    await started.promise;
    // Three idle workers, yet 'a' must wait for the one holding it.
    queue.add('a');
    queue.add('a');
    queue.add('b');
    await eventually(() => inFlight.get('b') === 0, 'b processed');
    expect(runsOfA).toBe(1);
    expect(queue.length).toBe(0);
    firstRun.open();
    await eventually(() => runsOfA === 2 && inFlight.get('a') === 0, 'a processed again');
    await delay(10);
    stop.abort();
    await running;
    expect(runsOfA).toBe(2);
    expect(maxInFlightOfA).toBe(1);
  });

  test('addRateLimited doubles the delay per key up to the cap; forget resets it', () => {
    const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 40 });
    expect([1, 2, 3, 4, 5].map(() => queue.addRateLimited('a'))).toEqual([5, 10, 20, 40, 40]);
    expect(queue.retries('a')).toBe(5);
    expect(queue.addRateLimited('b')).toBe(5);
    queue.forget('a');
    expect(queue.retries('a')).toBe(0);
    expect(queue.addRateLimited('a')).toBe(5);
    queue.shutdown();
  });

  test('the defaults are 5 ms doubling to 1000 s', () => {
    const queue = new WorkQueue();
    const delays = Array.from({ length: 30 }, () => queue.addRateLimited('k'));
    expect(delays.slice(0, 3)).toEqual([5, 10, 20]);
    expect(delays.at(-1)).toBe(1_000_000);
    queue.shutdown();
  });

  test('a throw re-queues with backoff and reports; success forgets the failures', async () => {
    const errors: [string, unknown][] = [];
    const queue = new WorkQueue({ baseDelayMs: 1, onError: (key, error) => errors.push([key, error]) });
    const stop = new AbortController();
    let attempts = 0;
    const retriesSeen: number[] = [];
    const running = queue.run(2, async (key) => {
      retriesSeen.push(queue.retries(key));
      attempts++;
      if (attempts < 4) throw new Error(`attempt ${attempts}`);
      stop.abort();
    }, stop.signal);
    queue.add('x');
    await running;
    expect(attempts).toBe(4);
    expect(retriesSeen).toEqual([0, 1, 2, 3]);
    expect(errors.map(([key, e]) => `${key}:${e instanceof Error ? e.message : ''}`)).toEqual(['x:attempt 1', 'x:attempt 2', 'x:attempt 3']);
    expect(queue.retries('x')).toBe(0);
  });

  test('addAfter adds later, and the earliest of several delays wins', async () => {
    const queue = new WorkQueue();
    queue.addAfter('later', 20);
    expect(queue.length).toBe(0);
    await eventually(() => queue.length === 1, 'the delayed key');
    queue.addAfter('k', 60_000);
    queue.addAfter('k', 5);
    queue.addAfter('k', 60_000);
    await eventually(() => queue.length === 2, 'k despite its long first delay');
    queue.addAfter('now', 0);
    expect(queue.length).toBe(3);
    queue.shutdown();
  });

  test('{ requeueAfterMs } brings the key back without counting a failure', async () => {
    const queue = new WorkQueue();
    const stop = new AbortController();
    let runs = 0;
    const running = queue.run(1, async () => {
      runs++;
      if (runs === 1) return { requeueAfterMs: 5 };
      stop.abort();
      return undefined;
    }, stop.signal);
    queue.add('k');
    await running;
    expect(runs).toBe(2);
    expect(queue.retries('k')).toBe(0);
  });

  test('run() resolves after an abort only once the keys in progress are done, and takes no new ones', async () => {
    const queue = new WorkQueue();
    const stop = new AbortController();
    const release = gate();
    const started = gate();
    const seen: string[] = [];
    let finished = false;
    const running = queue.run(1, async (key) => {
      seen.push(key);
      started.open();
      await release.promise;
    }, stop.signal).then(() => {
      finished = true;
    });
    queue.add('a');
    queue.add('b');
    await started.promise;
    stop.abort();
    await delay(10);
    expect(finished).toBe(false);
    release.open();
    await running;
    expect(seen).toEqual(['a']);
    expect(queue.length).toBe(1);

    // The same queue serves a later run (a replica that leads again).
    const again = new AbortController();
    await queue.run(1, async (key) => {
      seen.push(key);
      again.abort();
    }, again.signal);
    expect(seen).toEqual(['a', 'b']);
  });

  test('a run with an already aborted signal returns at once', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    let called = false;
    await queue.run(3, async () => {
      called = true;
    }, AbortSignal.abort());
    expect(called).toBe(false);
  });

  test('shutdown() ends the workers, refuses keys and drops delayed ones', async () => {
    const queue = new WorkQueue();
    const running = queue.run(2, async () => undefined, new AbortController().signal);
    queue.addAfter('delayed', 10);
    queue.shutdown();
    await running;
    queue.add('x');
    expect(queue.length).toBe(0);
    await delay(20);
    expect(queue.length).toBe(0);
    expect(queue.isShutDown).toBe(true);
  });

  test('options are validated', () => {
    expect(() => new WorkQueue({ baseDelayMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new WorkQueue({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs/);
    const queue = new WorkQueue();
    return expect(queue.run(0, async () => undefined, new AbortController().signal)).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
