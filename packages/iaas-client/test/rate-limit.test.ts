import { describe, expect, it } from 'vitest';
import { ActionRateLimiter, TokenBucket, backoffDelay, type Clock } from '../src/index.ts';

/** A clock whose sleeps advance time instantly, recording what was asked. */
function manualClock(): Clock & { slept: number[] } {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(now),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      slept.push(ms);
      now += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('lets a burst through, then spaces requests at the rate', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 2 }, clock);
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await bucket.take());
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    expect(waits.slice(2).every((w) => w > 0 && w <= 250)).toBe(true);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(700);
  });

  it('gives the token back when the waiter aborts', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 }, clock);
    await bucket.take();
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(bucket.take(ac.signal)).rejects.toThrow('stop');
    // The aborted caller's reservation was returned: the next waits one interval, not two.
    expect(await bucket.take()).toBe(1000);
  });

  it('rejects nonsense limits with the field named', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(/ratePerSecond must be a positive/);
    expect(() => new ActionRateLimiter({ actions: { CreateNics: { ratePerSecond: 1, burst: 0 } } })).toThrow(
      /rateLimit\.actions\.CreateNics\.burst/,
    );
  });
});

describe('ActionRateLimiter', () => {
  it('keeps one bucket per action, with describe and mutate defaults and overrides', async () => {
    const clock = manualClock();
    const limiter = new ActionRateLimiter(
      { describe: { ratePerSecond: 10, burst: 1 }, mutate: { ratePerSecond: 1, burst: 1 }, actions: { DeleteNics: null } },
      clock,
    );
    expect(await limiter.take('DescribeNics')).toBe(0);
    expect(await limiter.take('DescribeVxnets')).toBe(0); // another action, another bucket
    expect(await limiter.take('DescribeNics')).toBe(100);
    expect(await limiter.take('CreateNics')).toBe(0);
    expect(await limiter.take('CreateNics')).toBe(1000);
    for (let i = 0; i < 10; i++) expect(await limiter.take('DeleteNics')).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter in [d/2, d] and is capped', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, () => 0)).toBe(500);
  });
});
