import { describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, MAX_TIMER_MS, backoffDelay, checkDelay, every, sleep } from '../src/index.ts';

describe('checkDelay', () => {
  it('accepts 0 to 2^31-1 ms and refuses more, naming the field', () => {
    expect(checkDelay('x', 0)).toBe(0);
    expect(checkDelay('x', MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(() => checkDelay('--nic-gc-interval', MAX_TIMER_MS + 1)).toThrow(InvalidOptionError);
    expect(() => checkDelay('--nic-gc-interval', MAX_TIMER_MS + 1)).toThrow(/--nic-gc-interval: must be at most 2147483647 ms/);
    expect(() => checkDelay('x', -1)).toThrow(/0 ms or more/);
    expect(() => checkDelay('x', Number.NaN)).toThrow(/0 ms or more/);
  });

  it('every() and sleep() refuse a period Node would turn into 1 ms', () => {
    expect(() => every(MAX_TIMER_MS + 1, () => Promise.resolve(), () => undefined)).toThrow(/period: must be at most/);
    expect(() => sleep(2 ** 32)).toThrow(/sleep: must be at most/);
  });
});

describe('sleep', () => {
  it('resolves true after the time, false when aborted', async () => {
    vi.useFakeTimers();
    try {
      const full = sleep(1000);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await full).toBe(true);
      const ac = new AbortController();
      const cut = sleep(1000, ac.signal);
      ac.abort();
      expect(await cut).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
      expect(await sleep(5, AbortSignal.abort())).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, caps at the max, and jitters the upper half', () => {
    expect(backoffDelay(0, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(0, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(8000);
    expect(backoffDelay(60, 1000, 30_000, () => 1)).toBe(30_000);
  });
});

describe('every', () => {
  it('runs the task each period without overlap, reports errors and goes on, and stops', async () => {
    vi.useFakeTimers();
    try {
      const errors: unknown[] = [];
      let calls = 0;
      const p = every(100, async () => {
        calls += 1;
        if (calls === 2) throw new Error('second run fails');
      }, (e) => errors.push(e));
      expect(p.lastRunAt).toBeUndefined();
      await vi.advanceTimersByTimeAsync(350);
      expect(calls).toBe(3);
      expect(p.runs).toBe(3);
      expect(errors).toHaveLength(1);
      await p.stop();
      await vi.advanceTimersByTimeAsync(1000);
      expect(calls).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop() waits for a run in progress', async () => {
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let finished = false;
    const p = every(1, () => {
      started();
      return new Promise<void>((r) => (release = r)).then(() => {
        finished = true;
      });
    }, () => undefined);
    await running;
    const stopping = p.stop();
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(p.runs).toBe(1);
  });
});
