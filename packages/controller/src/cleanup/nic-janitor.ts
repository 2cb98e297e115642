/**
 * Removes this cluster's leaked NICs from the IaaS: NICs left attached to instances that are no longer nodes,
 * and NICs left unattached (agent crash windows, spec agent 6.3; nodes deleted with their NICs still on).
 * Decisions come from `planNicCleanup`; this class does the I/O around it: list, plan, and for each action a
 * second look at the NIC right before touching it, then detach (waiting for the job) and delete.
 *
 * One NIC failing does not hold back the others; what failed is left as it was and the next sweep picks it up
 * again (the watch on the NIC is kept, so it does not wait out another grace period).
 */
import type { IaasClient, Nic } from '@hostnic/iaas-client';
import { isNotFound } from '@hostnic/iaas-client';
import type { Fence } from '../fence.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import { NotLeaderError, openFence } from '../fence.ts';
import type { Logger } from '@hostnic/runtime';
import { errorText, silentLogger } from '@hostnic/runtime';
import type { NicAction, NicObservation, NicPlan } from './nic-plan.ts';
import { DEFAULT_NIC_GRACE_MS, NicSkipCode, isCandidateNic, planNicCleanup } from './nic-plan.ts';
import type { InventoryView } from './node-identity.ts';

export interface NicJanitorOptions {
  readonly iaas: IaasClient;
  /** Tag ids that mark this cluster's NICs (the agents' `pool.tag`); may be empty. */
  readonly clusterTags: readonly string[];
  /** Default 10 min. */
  readonly graceMs?: number;
  /** Unattached NICs named after a live node (default 3 × graceMs). */
  readonly ownNodeGraceMs?: number;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Bound of each DetachNics job wait (default 120 s). */
  readonly jobTimeoutMs?: number;
  /** Job polling (defaults of the client's waitJob). */
  readonly jobPoll?: { readonly initialIntervalMs?: number; readonly maxIntervalMs?: number };
  /** Only the leader may change the IaaS (default: always open). */
  readonly fence?: Fence;
  /** Look only at NICs in these vxnets (default: every NIC of the account in the zone). */
  readonly vxnets?: readonly string[];
  /** NICs handled at the same time (default 4). */
  readonly concurrency?: number;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint;
}

export interface SweepSkip {
  readonly nicId: string;
  readonly code: NicSkipCode;
  readonly reason: string;
}

export type SweepStep = 'recheck' | 'detach' | 'delete';

export interface SweepError {
  readonly nicId: string;
  readonly step: SweepStep;
  readonly error: string;
}

export interface SweepResult {
  /** NICs deleted, and NICs that turned out to be gone already. */
  readonly deleted: string[];
  /** NICs detached by this sweep (normally also in `deleted`). */
  readonly detached: string[];
  readonly skipped: SweepSkip[];
  readonly errors: SweepError[];
  /** NICs waiting for a second sight or for their grace period to end. */
  readonly pending: number;
  /** Actions the plan asked for. */
  readonly planned: number;
}

/** Running totals since start, for metrics. */
export interface NicJanitorTotals {
  sweeps: number;
  /** Sweeps that could not list the NICs (or lost the lease, or were aborted). */
  failedSweeps: number;
  planned: number;
  deleted: number;
  detached: number;
  /** NICs gone by the time the janitor got to them. */
  gone: number;
  /** Actions dropped by the second look. */
  changed: number;
  errors: number;
}

/** The sweep could not start or list the NICs; nothing was changed. */
export class NicSweepError extends Error {
  override name = 'NicSweepError';
}

export class NicJanitorOptionsError extends Error {
  override name = 'NicJanitorOptionsError';
}

const DEFAULT_JOB_TIMEOUT_MS = 120_000;
const DEFAULT_CONCURRENCY = 4;

function emptyTotals(): NicJanitorTotals {
  return { sweeps: 0, failedSweeps: 0, planned: 0, deleted: 0, detached: 0, gone: 0, changed: 0, errors: 0 };
}

interface Outcome {
  deleted: string[];
  detached: string[];
  skipped: SweepSkip[];
  errors: SweepError[];
}

/** Why the NIC no longer matches what was planned; undefined when it still does. */
function changeOf(action: NicAction, nic: Nic, current: ReadonlySet<string>): string | undefined {
  if (nic.role !== 0) return `it is now a primary NIC (role ${nic.role})`;
  if (nic.nicName !== action.nicName) return `its name is now ${JSON.stringify(nic.nicName)}`;
  const now = `${nic.status} on ${nic.instanceId || 'no instance'}`;
  if (action.kind === 'delete') {
    return nic.status === 'available' && nic.instanceId === '' ? undefined : `it is now ${now}`;
  }
  if (nic.status !== 'in-use' || nic.instanceId !== action.instanceId) return `it is now ${now}`;
  if (current.has(nic.instanceId)) return `${nic.instanceId} is a node again`;
  return undefined;
}

export class NicJanitor {
  readonly #iaas: IaasClient;
  readonly #clusterTags: readonly string[];
  readonly #graceMs: number;
  readonly #ownNodeGraceMs: number | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #jobTimeoutMs: number;
  readonly #jobPoll: NonNullable<NicJanitorOptions['jobPoll']>;
  readonly #fence: Fence;
  readonly #vxnets: readonly string[] | undefined;
  readonly #concurrency: number;
  readonly #failpoint: ControllerFailpoint;
  #observations = new Map<string, NicObservation>();
  #busy = false;
  readonly #totals = emptyTotals();

  constructor(options: NicJanitorOptions) {
    const check = (name: string, value: number | undefined, min: number): void => {
      if (value !== undefined && (!Number.isFinite(value) || value < min)) {
        throw new NicJanitorOptionsError(`${name} must be a number ≥ ${min}, got ${value}`);
      }
    };
    check('graceMs', options.graceMs, 0);
    check('ownNodeGraceMs', options.ownNodeGraceMs, 0);
    check('jobTimeoutMs', options.jobTimeoutMs, 1);
    check('concurrency', options.concurrency, 1);
    this.#iaas = options.iaas;
    this.#clusterTags = [...options.clusterTags];
    this.#graceMs = options.graceMs ?? DEFAULT_NIC_GRACE_MS;
    this.#ownNodeGraceMs = options.ownNodeGraceMs;
    this.#log = (options.log ?? silentLogger).with({ component: 'nic-janitor' });
    this.#now = options.now ?? Date.now;
    this.#jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    this.#jobPoll = options.jobPoll ?? {};
    this.#fence = options.fence ?? openFence;
    this.#vxnets = options.vxnets === undefined ? undefined : [...options.vxnets];
    this.#concurrency = Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#failpoint = options.failpoint ?? noFailpoint;
  }

  /** A copy of the running totals. */
  get totals(): Readonly<NicJanitorTotals> {
    return { ...this.#totals };
  }

  /** NICs being watched (first sight, grace, or an action to finish). */
  get watching(): number {
    return this.#observations.size;
  }

  /**
   * One pass: list, plan, act. Pass the inventory refreshed from the current node list right before.
   * @throws NicSweepError when the NICs cannot be listed (nothing changed then)
   * @throws NotLeaderError when the lease was lost; actions under way finish, no new ones start
   * @throws the signal's reason on abort
   */
  async sweep(inventory: InventoryView, signal?: AbortSignal): Promise<SweepResult> {
    return this.#exclusive(async () => {
      this.#totals.sweeps++;
      try {
        const plan = await this.#plan(inventory, signal);
        const result = await this.#execute(plan, inventory, signal);
        this.#report(result);
        return result;
      } catch (e) {
        this.#totals.failedSweeps++;
        throw e;
      }
    });
  }

  /**
   * The first half of a sweep: lists the NICs and records what it saw. `execute` does the rest; split for
   * dry runs and for tests of the second look.
   */
  async plan(inventory: InventoryView, signal?: AbortSignal): Promise<NicPlan> {
    return this.#exclusive(() => this.#plan(inventory, signal));
  }

  /** The second half of a sweep: the plan's actions, each after a fresh look at the NIC. */
  async execute(plan: NicPlan, inventory: InventoryView, signal?: AbortSignal): Promise<SweepResult> {
    return this.#exclusive(async () => {
      const result = await this.#execute(plan, inventory, signal);
      this.#report(result);
      return result;
    });
  }

  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    // Two passes at once would act on the same NICs twice and race on the watch list.
    if (this.#busy) throw new NicSweepError('a NIC sweep is already running');
    this.#busy = true;
    try {
      return await work();
    } finally {
      this.#busy = false;
    }
  }

  async #plan(inventory: InventoryView, signal: AbortSignal | undefined): Promise<NicPlan> {
    let listed: Nic[];
    try {
      // The API cannot filter by name prefix or tag (nic_name is an exact match at best), so list all and
      // pick the candidates here; the client pages.
      listed = await this.#iaas.describeNics(this.#vxnets === undefined ? {} : { vxnets: this.#vxnets }, { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new NicSweepError(`listing NICs failed: ${errorText(e)}`, { cause: e });
    }
    const tags = new Set(this.#clusterTags);
    const nics = listed.filter((n) => isCandidateNic(n, tags));
    const plan = planNicCleanup({
      nics,
      inventory,
      clusterTags: this.#clusterTags,
      previous: this.#observations,
      now: this.#now(),
      graceMs: this.#graceMs,
      ...(this.#ownNodeGraceMs === undefined ? {} : { ownNodeGraceMs: this.#ownNodeGraceMs }),
    });
    this.#observations = plan.observations;
    this.#totals.planned += plan.actions.length;
    for (const s of plan.skipped) {
      if (s.code !== NicSkipCode.LiveNode) this.#log.debug('NIC left alone', { nicId: s.nicId, code: s.code, reason: s.reason });
    }
    return plan;
  }

  async #execute(plan: NicPlan, inventory: InventoryView, signal: AbortSignal | undefined): Promise<SweepResult> {
    const out: Outcome = { deleted: [], detached: [], skipped: [...plan.skipped], errors: [] };
    const current = inventory.current;
    const queue = [...plan.actions];
    let stop: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      for (let action = queue.shift(); action !== undefined && stop === undefined; action = queue.shift()) {
        try {
          signal?.throwIfAborted();
          await this.#act(action, current, out, signal);
        } catch (e) {
          // Only what must end the whole sweep escapes #act: a lost lease or an abort.
          stop ??= { error: e };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));
    if (stop !== undefined) throw stop.error;
    return { ...out, pending: plan.pending, planned: plan.actions.length };
  }

  async #act(action: NicAction, current: ReadonlySet<string>, out: Outcome, signal: AbortSignal | undefined): Promise<void> {
    const { nicId } = action;
    const log = this.#log.with({ nicId, instanceId: action.instanceId, vxnetId: action.vxnetId, kind: action.kind });
    const fatal = (e: unknown): boolean => e instanceof NotLeaderError || signal?.aborted === true;
    const fail = (step: SweepStep, e: unknown): void => {
      if (fatal(e)) throw e;
      this.#totals.errors++;
      out.errors.push({ nicId, step, error: errorText(e) });
      log.warn(`leaked NIC: ${step} failed; the next sweep tries again`, { step, error: errorText(e) });
    };
    const gone = (): void => {
      this.#totals.gone++;
      this.#observations.delete(nicId);
      out.deleted.push(nicId);
      log.info('leaked NIC is gone already', { reason: action.reason });
    };

    let fresh: Nic | undefined;
    try {
      fresh = (await this.#iaas.describeNics({ nics: [nicId] }, { signal })).find((n) => n.nicId === nicId);
    } catch (e) {
      fail('recheck', e);
      return;
    }
    if (fresh === undefined) return gone();
    const change = changeOf(action, fresh, current);
    if (change !== undefined) {
      this.#totals.changed++;
      // Watch it afresh: whatever it is now has to be seen twice and wait its own grace period.
      this.#observations.delete(nicId);
      out.skipped.push({ nicId, code: NicSkipCode.Changed, reason: `changed since it was listed: ${change}` });
      log.info('leaked NIC changed since it was listed; left alone', { change });
      return;
    }

    if (action.kind === 'detach-and-delete') {
      this.#fence.check('DetachNics');
      const watched = this.#observations.get(nicId);
      // Recorded before the call: whatever becomes of the job, an unattached NIC next time is our doing.
      if (watched !== undefined) this.#observations.set(nicId, { ...watched, detaching: true });
      try {
        const job = await this.#iaas.detachNics([nicId], signal);
        if (job.jobId !== undefined) {
          await this.#iaas.waitJob(job.jobId, { ...this.#jobPoll, timeoutMs: this.#jobTimeoutMs, signal });
        }
      } catch (e) {
        if (isNotFound(e)) return gone();
        fail('detach', e);
        return;
      }
      this.#totals.detached++;
      out.detached.push(nicId);
      if (watched !== undefined) {
        this.#observations.set(nicId, { firstSeen: watched.firstSeen, status: 'available', instanceId: '', detaching: true });
      }
      log.info('leaked NIC detached', { reason: action.reason });
      await this.#failpoint('nic-cleanup:detached');
    }

    this.#fence.check('DeleteNics');
    try {
      await this.#iaas.deleteNics([nicId], signal);
    } catch (e) {
      if (isNotFound(e)) return gone();
      fail('delete', e);
      return;
    }
    this.#totals.deleted++;
    this.#observations.delete(nicId);
    out.deleted.push(nicId);
    log.info('leaked NIC deleted', { reason: action.reason, nicName: action.nicName });
  }

  #report(result: SweepResult): void {
    if (result.planned === 0 && result.errors.length === 0) return;
    this.#log.info('NIC sweep done', {
      planned: result.planned,
      deleted: result.deleted.length,
      detached: result.detached.length,
      errors: result.errors.length,
      pending: result.pending,
    });
  }
}
