/** The idle-NIC release timer comes back when the next NIC falls due, bounded by the period. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { idleReleaseDelay, startIdleReleaseTimer } from '../../src/daemon/idle-release-timer.ts';

describe('idleReleaseDelay', () => {
  it('waits until the next due time, at least the minimum, at most the period', () => {
    expect(idleReleaseDelay(1_000, undefined, 600_000, 1_000)).toBe(600_000);
    expect(idleReleaseDelay(1_000, 250_000, 600_000, 1_000)).toBe(249_000);
    expect(idleReleaseDelay(1_000, 10_000_000, 600_000, 1_000)).toBe(600_000);
    // Due already (a release that failed, a skewed clock): the minimum, never zero.
    expect(idleReleaseDelay(1_000, 500, 600_000, 1_000)).toBe(1_000);
  });
});

describe('startIdleReleaseTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at the due time the previous pass named, so a NIC idle since t goes at t + freePeriod', async () => {
    const F = 600_000;
    const runs: number[] = [];
    // The last pod left at 45 s: the NIC is due at 45 s + F.
    const dues = [45_000 + F, undefined];
    const timer = startIdleReleaseTimer({
      run: () => {
        runs.push(Date.now());
        return Promise.resolve(dues.shift());
      },
      periodMs: F,
      minDelayMs: 1_000,
      firstDelayMs: 50_000,
      now: () => Date.now(),
      onError: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(50_000);
    expect(runs).toEqual([50_000]);
    await vi.advanceTimersByTimeAsync(45_000 + F - 50_000 - 1);
    expect(runs).toEqual([50_000]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([50_000, 45_000 + F]);
    // Nothing idle: back after one period.
    await vi.advanceTimersByTimeAsync(F);
    expect(runs).toEqual([50_000, 45_000 + F, 45_000 + 2 * F]);
    await timer.stop();
    await vi.advanceTimersByTimeAsync(10 * F);
    expect(runs).toHaveLength(3);
  });

  it('a failed pass is reported and retried after one period', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const timer = startIdleReleaseTimer({
      run: () => {
        calls++;
        return Promise.reject(new Error('store closed'));
      },
      periodMs: 60_000,
      minDelayMs: 1_000,
      firstDelayMs: 1_000,
      now: () => Date.now(),
      onError: (e) => errors.push(e),
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
    await timer.stop();
  });
});
