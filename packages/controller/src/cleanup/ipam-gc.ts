/**
 * Garbage collection of pod addresses and IPAM handles (spec ipam-controller 6 items 10-11): addresses whose
 * pod is gone, handles that hold nothing or miscount. An action is taken only when two checks some time
 * apart both want it, the allocation is older than the grace period, and a final read of the pod from the
 * API (not the cache) confirms it is gone; the store then re-reads every object and compares before writing.
 */
import type { ConsistencyReport, Finding, Ipam, LivePod, RepairPlan, RepairResult } from '@hostnic/ipam';
import { claimNodeOf, DEFAULT_LEAK_GRACE_MS, stableRepairPlan } from '@hostnic/ipam';
import type { EventSink } from '../event-sink.ts';
import { vxnetPoolRef } from '../event-sink.ts';
import type { Logger } from '@hostnic/runtime';
import { silentLogger } from '@hostnic/runtime';

export interface IpamGcOptions {
  readonly ipam: Ipam;
  /** Every live pod, from a synced cache; undefined while the cache is not synced (the check then waits). */
  readonly livePods: () => readonly LivePod[] | undefined;
  /** Every node, from a synced cache: the address claims of other nodes are collected; undefined = leave claims alone. */
  readonly liveNodes?: (() => readonly string[] | undefined) | undefined;
  /** A fresh read of one pod from the API: true when it exists (and is not finished). */
  readonly podExists: (namespace: string, name: string) => Promise<boolean>;
  readonly events: EventSink;
  readonly log?: Logger;
  readonly graceMs?: number;
  readonly now?: () => Date;
}

export interface IpamGcResult {
  /** Why nothing was done, when nothing could be. */
  readonly skipped?: string;
  /** Findings of this check. */
  readonly findings: readonly Finding[];
  /** What was applied (undefined on a first observation). */
  readonly repaired?: RepairResult;
  /** Releases dropped because the pod turned out to exist. */
  readonly spared: readonly string[];
}

type DeadPod = Extract<Finding, { kind: 'DeadPodAllocation' }>;

/** Drops the releases of pods that exist after all, and the handle actions that depended on them. */
export function withoutLivePods(plan: RepairPlan, alive: ReadonlySet<string>): RepairPlan {
  if (alive.size === 0) return plan;
  const keep = plan.release.filter((a) => !alive.has(a.handleId));
  return {
    release: keep,
    deleteHandles: plan.deleteHandles.filter((h) => !alive.has(h)),
    updateHandles: plan.updateHandles.filter((h) => !alive.has(h.handleId)),
    createHandles: plan.createHandles,
  };
}

function isEmptyPlan(plan: RepairPlan): boolean {
  return plan.release.length === 0 && plan.deleteHandles.length === 0 && plan.updateHandles.length === 0 && plan.createHandles.length === 0;
}

export class IpamGarbageCollector {
  readonly #o: IpamGcOptions;
  readonly #log: Logger;
  #previous: RepairPlan | undefined;
  /** Totals, for metrics. */
  readonly totals = { runs: 0, released: 0, handlesDeleted: 0, handlesUpdated: 0, handlesCreated: 0, spared: 0 };

  constructor(options: IpamGcOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
  }

  async run(): Promise<IpamGcResult> {
    const pods = this.#o.livePods();
    if (pods === undefined) return { skipped: 'the pod cache is not synced yet', findings: [], spared: [] };
    const now = this.#o.now?.() ?? new Date();
    const liveNodes = this.#o.liveNodes?.();
    const report: ConsistencyReport = await this.#o.ipam.check(pods, {
      now,
      graceMs: this.#o.graceMs ?? DEFAULT_LEAK_GRACE_MS,
      ...(liveNodes === undefined ? {} : { liveNodes }),
    });
    this.totals.runs++;
    const previous = this.#previous;
    this.#previous = report.plan;
    if (previous === undefined) return { findings: report.findings, spared: [] };

    const stable = stableRepairPlan(previous, report.plan);
    if (isEmptyPlan(stable)) return { findings: report.findings, repaired: emptyResult(), spared: [] };

    const deadByHandle = new Map<string, DeadPod>();
    for (const f of report.findings) if (f.kind === 'DeadPodAllocation') deadByHandle.set(f.handleId, f);
    const alive = new Set<string>();
    for (const action of stable.release) {
      const dead = deadByHandle.get(action.handleId);
      if (dead === undefined || dead.reason !== 'PodGone') continue;
      if (await this.#o.podExists(dead.namespace, dead.pod)) alive.add(action.handleId);
    }
    const plan = withoutLivePods(stable, alive);
    const repaired = await this.#o.ipam.repair(plan, { now });
    this.#previous = undefined;
    this.#account(repaired, alive.size);
    this.#report(repaired, deadByHandle);
    return { findings: report.findings, repaired, spared: [...alive] };
  }

  #account(r: RepairResult, spared: number): void {
    this.totals.released += r.released.reduce((n, x) => n + x.addresses.length, 0);
    this.totals.handlesDeleted += r.deletedHandles.length;
    this.totals.handlesUpdated += r.updatedHandles.length;
    this.totals.handlesCreated += r.createdHandles.length;
    this.totals.spared += spared;
  }

  #report(r: RepairResult, dead: ReadonlyMap<string, DeadPod>): void {
    const ref = vxnetPoolRef();
    for (const x of r.released) {
      const pod = dead.get(x.handleId);
      const node = claimNodeOf(x.handleId);
      const who = pod === undefined ? `handle ${x.handleId}` : `pod ${pod.namespace}/${pod.pod} (handle ${x.handleId})`;
      const message =
        node === undefined
          ? `released ${x.addresses.join(', ')} of ${who} in block ${x.block}: the pod no longer exists`
          : `released ${x.addresses.join(', ')} of the address claim of node ${node} in block ${x.block}: the node no longer exists`;
      this.#o.events.event(ref, 'Normal', 'LeakedAddressReleased', message);
      this.#log.info('released leaked addresses', { block: x.block, handle: x.handleId, addresses: x.addresses });
    }
    if (r.deletedHandles.length + r.updatedHandles.length + r.createdHandles.length > 0) {
      this.#log.info('repaired IPAM handles', { deleted: r.deletedHandles, updated: r.updatedHandles, created: r.createdHandles });
    }
    for (const s of r.skipped) this.#log.info('repair action skipped, the next check looks again', { ...s });
  }
}

function emptyResult(): RepairResult {
  return { released: [], recordedAddresses: [], createdHandles: [], updatedHandles: [], deletedHandles: [], skipped: [] };
}
