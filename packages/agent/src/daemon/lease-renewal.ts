/**
 * The renewal timer of VLAN bridge leases: wakes at the earliest lease's T1 (half its time), renews what is
 * due, and sleeps again. Every wait is bounded: at most `maxWaitMs` (a VLAN NIC set up meanwhile has its
 * lease looked at within it), at least `minWaitMs` (a server that keeps failing is not asked in a busy loop;
 * the address lapses at the lease's end if it never answers).
 *
 * @packageDocumentation
 */

import type { Logger } from '@hostnic/runtime';
import { errorText, sleep } from '@hostnic/runtime';

export interface LeaseRenewer {
  nextLeaseRenewal(): Promise<number | undefined>;
  renewLeases(): Promise<{ nicId: string; error: string }[]>;
}

export interface LeaseRenewalOptions {
  readonly minWaitMs?: number;
  readonly maxWaitMs?: number;
  readonly now?: () => number;
}

/** How long to sleep before the next look (pure). */
export function renewalWaitMs(nextDueMs: number | undefined, nowMs: number, minWaitMs: number, maxWaitMs: number): number {
  if (nextDueMs === undefined) return maxWaitMs;
  return Math.min(maxWaitMs, Math.max(minWaitMs, nextDueMs - nowMs));
}

/** Runs until `signal` aborts; resolves then. Failures are logged and retried after `minWaitMs`. */
export async function runLeaseRenewal(nics: LeaseRenewer, log: Logger, signal: AbortSignal, o: LeaseRenewalOptions = {}): Promise<void> {
  const minWaitMs = o.minWaitMs ?? 5_000;
  const maxWaitMs = o.maxWaitMs ?? 60_000;
  const now = o.now ?? Date.now;
  while (!signal.aborted) {
    let wait: number;
    try {
      const due = await nics.nextLeaseRenewal();
      if (due !== undefined && due <= now()) {
        const failed = await nics.renewLeases();
        for (const f of failed) log.warn('VLAN bridge lease not renewed; retrying', { nicId: f.nicId, error: f.error, retryInMs: minWaitMs });
        wait = failed.length > 0 ? minWaitMs : renewalWaitMs(await nics.nextLeaseRenewal(), now(), minWaitMs, maxWaitMs);
      } else {
        wait = renewalWaitMs(due, now(), minWaitMs, maxWaitMs);
      }
    } catch (e) {
      log.error('VLAN bridge lease renewal failed', { error: errorText(e) });
      wait = minWaitMs;
    }
    await sleep(wait, signal);
  }
}
