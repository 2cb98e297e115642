/**
 * NicManager: this node has exactly one hostnic NIC per vxnet in use, attached and set up on the host, and
 * gives back the ones that stay idle. Work for one vxnet is serialised by a per-vxnet lock; different
 * vxnets proceed in parallel.
 */

import { errorText } from '@hostnic/runtime';
import type { NicRecord, VxnetInfo } from '../types.ts';
import { keepBridgeLease, nextRenewalMs } from './bridge-lease.ts';
import { resolveContext } from './context.ts';
import type { NicContext, NicManagerOptions } from './context.ts';
import { createNic } from './create.ts';
import { reconcileNics } from './reconcile.ts';
import type { ReconcileSummary } from './reconcile.ts';
import { dropVanished, finishRelease, releaseRecord } from './release.ts';
import type { ReleaseResult } from './release.ts';
import { repairNic } from './repair.ts';
import type { RepairOutcome } from './repair.ts';
import { NicError } from './errors.ts';

function sameVxnet(a: VxnetInfo, b: VxnetInfo): boolean {
  return a.vxnetId === b.vxnetId && a.gateway === b.gateway && a.network === b.network && a.tunnelType === b.tunnelType;
}

/** One NIC as `clearIdleNics` left it. */
export interface ClearedNic {
  readonly nicId: string;
  readonly vxnetId: string;
  readonly outcome: 'released' | 'would-release' | 'kept' | 'failed';
  /** Why it was kept, or why its release failed. */
  readonly reason?: string;
}

/** A NIC held for an ADD that is wiring a pod onto it; the idle release leaves it alone until `release()`. */
export interface NicLease {
  readonly nic: NicRecord;
  /**
   * Whether a repair changed the NIC's host state since the lease was taken (br_N may have been re-created,
   * taking the pod's proxy entry with it): asked after the pod's record is written.
   */
  hostChanged(): boolean;
  /**
   * Resolves once the NIC's host check that was running when the lease was taken has passed (at once when none
   * was); rejects with the check's error, or when the check replaced the NIC, and the ADD then rolls back.
   * Awaited before the pod's record is written, so that the ADD wires its pod meanwhile.
   */
  settled(): Promise<void>;
  /** Idempotent. Call once the pod's record is written or the ADD rolled back. */
  release(): void;
}

/** A re-check of a NIC whose verification expired, running under the vxnet's lock. */
interface Recheck {
  readonly nic: NicRecord;
  /** Passes with the NIC still the vxnet's, set up. */
  readonly passed: Promise<void>;
}

export class NicManager {
  readonly #ctx: NicContext;
  /**
   * NIC id → ADDs holding it. The idle release counts pods by their records, and an ADD writes its record
   * last, after the vxnet lock is let go: without this a release could detach a NIC a pod is being wired onto.
   */
  readonly #leases = new Map<string, number>();
  /** NIC id → when reconcile first saw it detached without a record (in memory: a restart restarts the grace). */
  readonly #orphansSeen = new Map<string, number>();
  /** NIC id → when ensureNic last found its host setup whole. */
  readonly #verifiedAt = new Map<string, number>();
  readonly #hostCheckWindowMs: number;
  /**
   * vxnet id → the re-check under way of its NIC, verified before: leases are taken on it at once instead of
   * waiting for the vxnet's lock, and settle with the check (a burst of ADDs is not serialised behind it).
   */
  readonly #rechecks = new Map<string, Recheck>();

  constructor(options: NicManagerOptions) {
    this.#ctx = resolveContext(options);
    this.#hostCheckWindowMs = options.hostCheckWindowMs ?? 3_000;
  }

  get nicName(): string {
    return this.#ctx.nicName;
  }

  /**
   * The vxnet's NIC, set up (phase Succeeded): the existing one verified and repaired, else a new one.
   * @throws NoFreeNicError, NicTimeoutError, NicElsewhereError, NicError (its `step` says where it failed).
   */
  ensureNic(vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicRecord> {
    return this.#ctx.vxnetLocks.run(vxnet.vxnetId, () => this.#ensureLocked(vxnet, signal));
  }

  /** ensureNic's work; the caller holds the vxnet's lock. */
  async #ensureLocked(vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicRecord> {
    const ctx = this.#ctx;
    signal?.throwIfAborted();
    let existing = await ctx.store.nicForVxnet(vxnet.vxnetId);
    if (existing && (await this.#finishCutOffRelease(existing, signal))) existing = undefined;
    const verified = existing === undefined ? undefined : this.#verifiedAt.get(existing.nicId);
    if (
      existing?.phase === 'Succeeded' &&
      verified !== undefined &&
      ctx.clock.now() - verified < this.#hostCheckWindowMs &&
      sameVxnet(existing.vxnet, vxnet)
    ) {
      return existing;
    }
    if (existing) {
      this.#verifiedAt.delete(existing.nicId);
      // Only the expiry of a verification the NIC passed lets leases ride on the check.
      const rideable = existing.phase === 'Succeeded' && verified !== undefined && sameVxnet(existing.vxnet, vxnet);
      if (!sameVxnet(existing.vxnet, vxnet)) {
        // The vxnet changed under us (e.g. its router): setupHostNic replaces the stale routes and rule.
        existing = { ...existing, vxnet: { ...vxnet } };
        await ctx.store.putNic(existing);
      }
      const outcome = await this.#recheck(existing, rideable, signal);
      if (outcome.kind === 'ok') {
        this.#verifiedAt.set(outcome.record.nicId, ctx.clock.now());
        return outcome.record;
      }
      await dropVanished(ctx, existing);
    }
    const created = await createNic(ctx, vxnet, signal);
    this.#verifiedAt.set(created.nicId, ctx.clock.now());
    return created;
  }

  /** `repairNic`, published in `#rechecks` while it runs when leases may ride on it. */
  async #recheck(record: NicRecord, rideable: boolean, signal?: AbortSignal): Promise<RepairOutcome> {
    const repair = repairNic(this.#ctx, record, signal);
    if (!rideable) return repair;
    const { nicId, vxnet } = record;
    const passed = repair.then((o) => {
      if (o.kind !== 'ok') throw new NicError('setup', `NIC ${nicId} (${vxnet.vxnetId}) is gone from the IaaS`, { nicId, vxnetId: vxnet.vxnetId });
    });
    // A rider that rolled back before asking is no unhandled rejection; the check's own caller gets the error.
    passed.catch(() => undefined);
    this.#rechecks.set(vxnet.vxnetId, { nic: record, passed });
    try {
      return await repair;
    } finally {
      this.#rechecks.delete(vxnet.vxnetId);
    }
  }

  /**
   * A release of the record's NIC that a crash cut off (its intent is open under the vxnet lock, so nobody is
   * running it) is finished, not repaired: repairing would attach the NIC again. Caller holds the vxnet lock.
   * @returns whether the record is gone
   */
  async #finishCutOffRelease(record: NicRecord, signal?: AbortSignal): Promise<boolean> {
    const ctx = this.#ctx;
    const cutOff = (await ctx.store.listIntents()).find((i) => i.kind === 'release-nic' && i.data['nicId'] === record.nicId);
    if (cutOff === undefined || this.leases(record.nicId) > 0 || (await ctx.store.podsOnNic(record.nicId)).length > 0) return false;
    this.#verifiedAt.delete(record.nicId);
    await finishRelease(ctx, record, cutOff.id, signal);
    return true;
  }

  /**
   * `ensureNic` plus a lease on the NIC taken under the same vxnet lock, so no release can run between the
   * two. The lease keeps the idle release and `releaseNic` away until it is released.
   */
  async leaseNic(vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicLease> {
    // Taken while the check holds the vxnet's lock: no release can run before it sees the lease.
    const recheck = this.#rechecks.get(vxnet.vxnetId);
    if (recheck !== undefined && sameVxnet(recheck.nic.vxnet, vxnet)) return this.#lease(recheck.nic, recheck.passed);
    return this.#ctx.vxnetLocks.run(vxnet.vxnetId, async () => this.#lease(await this.#ensureLocked(vxnet, signal), Promise.resolve()));
  }

  /** A lease on the NIC, counted at once; its `settled` waits for `passed`. */
  #lease(nic: NicRecord, passed: Promise<void>): NicLease {
    this.#leases.set(nic.nicId, (this.#leases.get(nic.nicId) ?? 0) + 1);
    const changes = this.#ctx.hostChanges;
    const changesAtLease = changes.get(nic.nicId) ?? 0;
    let held = true;
    return {
      nic,
      hostChanged: () => (changes.get(nic.nicId) ?? 0) !== changesAtLease,
      settled: () => passed,
      release: () => {
        if (!held) return;
        held = false;
        const left = (this.#leases.get(nic.nicId) ?? 1) - 1;
        if (left > 0) this.#leases.set(nic.nicId, left);
        else this.#leases.delete(nic.nicId);
      },
    };
  }

  /** Whether NIC work on the vxnet holds or waits for its lock (for introspection and tests). */
  vxnetBusy(vxnetId: string): boolean {
    return this.#ctx.vxnetLocks.busy(vxnetId);
  }

  /** Whether a re-check of the vxnet's NIC that leases ride on is under way (for introspection and tests). */
  recheckUnderWay(vxnetId: string): boolean {
    return this.#rechecks.has(vxnetId);
  }

  /** How many ADDs hold a lease on the NIC (for introspection and tests). */
  leases(nicId: string): number {
    return this.#leases.get(nicId.toLowerCase()) ?? 0;
  }

  /** Releases the NIC if no pod uses it; a failure leaves it in phase Init with lastError. */
  async releaseNic(nicId: string, signal?: AbortSignal): Promise<ReleaseResult> {
    const ctx = this.#ctx;
    const id = nicId.toLowerCase();
    const first = await ctx.store.getNic(id);
    if (!first) return { released: false, nicId: id, reason: 'unknown' };
    return ctx.vxnetLocks.run(first.vxnet.vxnetId, async () => {
      const record = await ctx.store.getNic(id);
      if (!record) return { released: false, nicId: id, reason: 'unknown' };
      if (this.leases(id) > 0) return { released: false, nicId: id, reason: 'has-pods' };
      this.#verifiedAt.delete(record.nicId);
      return releaseRecord(ctx, record, signal);
    });
  }

  /**
   * Releases NICs without pods for longer than `idleForMs` (the original's freePeriod, an idle age measured
   * from the last pod's DEL, see `podLeft`). Records that lack idleSince get it at this look; records with
   * pods lose it. NICs whose vxnet `keep` names (the warm pool) are left alone.
   */
  async releaseIdleNics(idleForMs: number, signal?: AbortSignal, keep?: (vxnetId: string) => boolean): Promise<ReleaseResult[]> {
    return (await this.idleRelease(idleForMs, signal, keep)).results;
  }

  /**
   * `releaseIdleNics`, also saying when the next idle NIC falls due (undefined: none is idle), so that the
   * caller can come back then and not a whole period later. A NIC whose release failed is due again one
   * `idleForMs` later, as a new idle NIC would be.
   */
  async idleRelease(idleForMs: number, signal?: AbortSignal, keep?: (vxnetId: string) => boolean): Promise<{ results: ReleaseResult[]; nextDueAt?: number }> {
    const ctx = this.#ctx;
    const results: ReleaseResult[] = [];
    let nextDueAt: number | undefined;
    const dueAt = (at: number): void => {
      nextDueAt = nextDueAt === undefined ? at : Math.min(nextDueAt, at);
    };
    for (const listed of await ctx.store.listNics()) {
      signal?.throwIfAborted();
      // The warm pool's NICs stay, idle or not.
      if (keep?.(listed.vxnet.vxnetId) === true) continue;
      const result = await ctx.vxnetLocks.run(listed.vxnet.vxnetId, async (): Promise<ReleaseResult | undefined> => {
        const record = await ctx.store.getNic(listed.nicId);
        if (!record) return undefined;
        const pods = await ctx.store.podsOnNic(record.nicId);
        const now = ctx.clock.now();
        // A leased NIC has a pod being wired onto it: busy, as if its record were written already.
        if (pods.length > 0 || this.leases(record.nicId) > 0) {
          if (record.idleSince !== undefined) {
            const busy: NicRecord = { ...record };
            delete busy.idleSince;
            await ctx.store.putNic(busy);
          }
          return undefined;
        }
        if (record.idleSince === undefined) {
          await ctx.store.putNic({ ...record, idleSince: new Date(now).toISOString() });
          dueAt(now + idleForMs);
          return undefined;
        }
        const due = Date.parse(record.idleSince) + idleForMs;
        if (!(now >= due)) {
          dueAt(due);
          return undefined;
        }
        this.#verifiedAt.delete(record.nicId);
        const released = await releaseRecord(ctx, record, signal);
        if (!released.released) dueAt(now + idleForMs);
        return released;
      });
      if (result) results.push(result);
    }
    return nextDueAt === undefined ? { results } : { results, nextDueAt };
  }

  /**
   * A pod left the NIC (its record is deleted): when it was the last and no ADD holds the NIC, the idle age
   * starts now, so that the NIC goes at most freePeriod after its last pod, not when the idle timer first
   * notices. Never throws: a DEL must not fail for it (the idle timer marks the NIC at its next look then).
   */
  async podLeft(nicId: string): Promise<void> {
    const ctx = this.#ctx;
    try {
      const first = await ctx.store.getNic(nicId);
      if (!first) return;
      await ctx.vxnetLocks.run(first.vxnet.vxnetId, async () => {
        const record = await ctx.store.getNic(nicId);
        if (!record || this.leases(record.nicId) > 0 || (await ctx.store.podsOnNic(record.nicId)).length > 0) return;
        await ctx.store.putNic({ ...record, idleSince: new Date(ctx.clock.now()).toISOString() });
      });
    } catch (err) {
      ctx.log.warn('could not mark a NIC idle after its last pod left', { nicId, error: errorText(err) });
    }
  }

  /**
   * Frees every NIC without pods now, whatever its idle age (`hostnic-agent nics clear`, the original's
   * hostnic-client -clear). NICs with pods or a lease, and those `keep` names (the warm pool, which would
   * make them again at its next sync), are listed as kept with the reason. With `dryRun`, only lists.
   */
  async clearIdleNics(options: { dryRun: boolean; keep?: (vxnetId: string) => boolean; signal?: AbortSignal }): Promise<ClearedNic[]> {
    const ctx = this.#ctx;
    const out: ClearedNic[] = [];
    for (const listed of await ctx.store.listNics()) {
      options.signal?.throwIfAborted();
      const vxnetId = listed.vxnet.vxnetId;
      const entry = await ctx.vxnetLocks.run(vxnetId, async (): Promise<ClearedNic | undefined> => {
        const record = await ctx.store.getNic(listed.nicId);
        if (!record) return undefined;
        const base = { nicId: record.nicId, vxnetId };
        const pods = (await ctx.store.podsOnNic(record.nicId)).length;
        if (pods > 0) return { ...base, outcome: 'kept', reason: `${pods} pod(s) on it` };
        if (this.leases(record.nicId) > 0) return { ...base, outcome: 'kept', reason: 'a pod is being added on it' };
        if (options.keep?.(vxnetId) === true) return { ...base, outcome: 'kept', reason: 'warm pool (warmNicsPerVxnet)' };
        if (options.dryRun) return { ...base, outcome: 'would-release' };
        this.#verifiedAt.delete(record.nicId);
        const result = await releaseRecord(ctx, record, options.signal);
        return result.released ? { ...base, outcome: 'released' } : { ...base, outcome: 'failed', reason: result.error ?? result.reason };
      });
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Converges store, IaaS and kernel; the agent runs it at start and on a timer. */
  reconcile(signal?: AbortSignal): Promise<ReconcileSummary> {
    // What reconcile finds broken the next ADD must look at again, not trust a recent verification.
    this.#verifiedAt.clear();
    return reconcileNics(this.#ctx, this.#orphansSeen, signal);
  }

  /** When the earliest VLAN bridge lease is due for renewal (ms since the epoch); undefined without leases. */
  async nextLeaseRenewal(): Promise<number | undefined> {
    if (this.#ctx.dhcp === undefined) return undefined;
    return nextRenewalMs(await this.#ctx.store.listNics());
  }

  /**
   * Renews every VLAN bridge lease that reached T1 (and gives a bridge without one its address), each under its
   * vxnet's lock.
   * @returns the NIC ids whose renewal failed, with the reason (their addresses lapse at the lease's end)
   */
  async renewLeases(): Promise<{ nicId: string; error: string }[]> {
    const ctx = this.#ctx;
    const failed: { nicId: string; error: string }[] = [];
    for (const listed of await ctx.store.listNics()) {
      if (listed.vxnet.tunnelType !== 'vlan' || listed.phase !== 'Succeeded') continue;
      await ctx.vxnetLocks.run(listed.vxnet.vxnetId, async () => {
        const record = await ctx.store.getNic(listed.nicId);
        if (record?.phase !== 'Succeeded') return;
        await keepBridgeLease(ctx, record).catch((err: unknown) => failed.push({ nicId: record.nicId, error: errorText(err) }));
      });
    }
    return failed;
  }
}
