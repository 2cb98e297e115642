/**
 * The lease renewal timer against a scripted NIC manager: it renews only what is due, retries a failed renewal,
 * sleeps until the next T1 in between, and returns once stopped.
 */
import { silentLogger } from '@hostnic/runtime';
import { describe, expect, it } from 'vitest';
import { runLeaseRenewal } from '../../src/daemon/lease-renewal.ts';
import type { LeaseRenewer } from '../../src/daemon/lease-renewal.ts';

/** Leases due at the given times (ms of a fake clock); each renewal moves the lease to `renewEveryMs` later. */
class ScriptedLeases implements LeaseRenewer {
  now = 0;
  due: number | undefined;
  renewals = 0;
  failures: number;
  readonly renewEveryMs: number;
  constructor(due: number | undefined, failures: number, renewEveryMs: number) {
    this.due = due;
    this.failures = failures;
    this.renewEveryMs = renewEveryMs;
  }
  async nextLeaseRenewal(): Promise<number | undefined> {
    // Each look advances the fake clock, so the loop reaches the next T1 without real waiting.
    this.now += 1_000;
    return this.due;
  }
  async renewLeases(): Promise<{ nicId: string; error: string }[]> {
    this.renewals++;
    if (this.failures > 0) {
      this.failures--;
      return [{ nicId: 'nic', error: 'no lease' }];
    }
    this.due = this.now + this.renewEveryMs;
    return [];
  }
}

async function waitFor(what: string, probe: () => boolean): Promise<void> {
  // A deadline, not a count of turns: on a loaded machine each turn can take far longer than its 5 ms.
  const deadline = Date.now() + 20_000;
  while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (!probe()) throw new Error(`timed out waiting for ${what}`);
}

describe('runLeaseRenewal', () => {
  it('renews a due lease, retries two failures, then renews again at each T1', async () => {
    const leases = new ScriptedLeases(0, 2, 3_000);
    const stop = new AbortController();
    const running = runLeaseRenewal(leases, silentLogger, stop.signal, { minWaitMs: 1, maxWaitMs: 2, now: () => leases.now });
    // Two failed attempts and the successful third, then renewals as the fake clock passes each T1.
    await waitFor('five renewals', () => leases.renewals >= 5);
    stop.abort();
    // Resolves only once the loop has left: nothing renews after a stop.
    await running;
    expect(leases.failures).toBe(0);
  });

  it('never renews when no lease is due', async () => {
    const leases = new ScriptedLeases(undefined, 0, 3_000);
    const stop = new AbortController();
    const running = runLeaseRenewal(leases, silentLogger, stop.signal, { minWaitMs: 1, maxWaitMs: 1, now: () => leases.now });
    await waitFor('ten looks', () => leases.now >= 10_000);
    stop.abort();
    await running;
    expect(leases.renewals).toBe(0);
  });
});
