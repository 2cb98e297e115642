/**
 * The VxNetPool reconciler (spec ipam-controller 4.2, with 6 items 16-17 fixed): for `v-pool`, prepare every
 * vxnet in the IaaS, create one IPPool per vxnet and all its blocks, drain vxnets that left the spec (no new
 * allocations, IaaS resources and pool removed once empty), and write `status.ready`, `status.pools` and
 * conditions. Readiness survives restarts: it is recomputed from the IaaS and the API before anything is
 * written, and a transient IaaS error does not turn a complete pool unready.
 */
import type { IPAMBlock, IPPool, IpamStore, PoolInfo, VxNetPodRange, VxNetPoolSpec } from '@hostnic/ipam';
import {
  AlreadyExistsError,
  LABEL_CONTROLLER,
  VXNET_POOL_NAME,
  compareBlockNames,
  isBlockEmpty,
  missingBlocks,
  newIPPool,
  resolveBlockSize,
  validateVxNetPoolSpec,
} from '@hostnic/ipam';
import type { ConditionInput } from '../resources/conditions.ts';
import { ConditionType, removeCondition, setCondition } from '../resources/conditions.ts';
import type { VxNetPoolClient, VxNetPoolObject, VxNetPoolStatusBody } from '../resources/vxnetpool.ts';
import type { EventSink } from '../event-sink.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import { vxnetPoolRef } from '../event-sink.ts';
import type { VxnetPrep } from '../iaas/preparer.ts';
import { PrepReason } from '../iaas/preparer.ts';
import type { Logger } from '@hostnic/runtime';
import { errorText, silentLogger } from '@hostnic/runtime';
import type { PodAddress } from './recovery.ts';
import { recoverBlock } from './recovery.ts';

/** The IaaS side, as the reconciler needs it (VxnetPreparer in the daemon). */
export interface VxnetIaas {
  prepare(vxnetIds: readonly string[], customReservedIPCount: number, signal?: AbortSignal): Promise<VxnetPrep[]>;
  release(vxnetId: string, signal?: AbortSignal): Promise<{ done: boolean; message: string }>;
}

export interface VxNetPoolReconcilerOptions {
  readonly pools: VxNetPoolClient;
  readonly store: IpamStore;
  readonly iaas: VxnetIaas;
  readonly events: EventSink;
  /** Addresses of running pods; undefined while the pod cache is not synced (blocks are then not created). */
  readonly podAddresses: () => readonly PodAddress[] | undefined;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Resync of a ready pool, to notice IaaS changes (default 60 s). */
  readonly readyResyncMs?: number;
  /** Resync while something is pending in the IaaS (default 3 s). */
  readonly pendingResyncMs?: number;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint;
}

/** The outcome of one sync. */
export interface VxNetPoolSyncResult {
  readonly ready: boolean;
  readonly requeueAfterMs?: number;
  readonly preps: readonly VxnetPrep[];
  readonly draining: readonly string[];
}

interface VxnetOutcome {
  readonly info: PoolInfo;
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

type PoolMeta = IPPool['metadata'] & { readonly deletionTimestamp?: string };

export class InvalidVxNetPoolSpecError extends Error {
  override name = 'InvalidVxNetPoolSpecError';
}

/** Shape checks the CRD schema would do, so a hand-edited object gets a clear message instead of a crash. */
function specOf(pool: VxNetPoolObject): VxNetPoolSpec {
  const raw = pool.spec as { vxnets?: unknown; blockSize?: unknown; customReservedIPCount?: unknown } | undefined;
  const vxnets = raw?.vxnets;
  if (!Array.isArray(vxnets)) {
    throw new InvalidVxNetPoolSpecError('spec.vxnets must be a list like [{name: vxnet-abc1234}]');
  }
  const refs = vxnets.map((v: unknown, i) => {
    const name = (v as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw new InvalidVxNetPoolSpecError(`spec.vxnets[${i}].name must be a vxnet ID string`);
    return { name };
  });
  if (raw?.blockSize !== undefined && typeof raw.blockSize !== 'number') {
    throw new InvalidVxNetPoolSpecError('spec.blockSize must be a number (a prefix length like 26)');
  }
  if (raw?.customReservedIPCount !== undefined && typeof raw.customReservedIPCount !== 'number') {
    throw new InvalidVxNetPoolSpecError('spec.customReservedIPCount must be a number');
  }
  const spec: VxNetPoolSpec = {
    vxnets: refs,
    blockSize: raw?.blockSize as number,
    ...(raw?.customReservedIPCount === undefined ? {} : { customReservedIPCount: raw.customReservedIPCount as number }),
  };
  const problems = validateVxNetPoolSpec(spec);
  if (problems.length > 0) throw new InvalidVxNetPoolSpecError(problems.map((p) => p.message).join('; '));
  return spec;
}

function sameRange(pool: IPPool, range: VxNetPodRange, blockSize: number): string | undefined {
  const diffs: string[] = [];
  if (pool.spec.cidr !== range.network) diffs.push(`cidr ${pool.spec.cidr} (IaaS: ${range.network})`);
  if (pool.spec.rangeStart !== range.ipStart) diffs.push(`rangeStart ${pool.spec.rangeStart ?? ''} (IaaS: ${range.ipStart})`);
  if (pool.spec.rangeEnd !== range.ipEnd) diffs.push(`rangeEnd ${pool.spec.rangeEnd ?? ''} (IaaS: ${range.ipEnd})`);
  if (pool.spec.gateway !== range.gateway) diffs.push(`gateway ${pool.spec.gateway ?? ''} (IaaS: ${range.gateway})`);
  if ((pool.spec.blockSize ?? blockSize) !== blockSize) diffs.push(`blockSize ${pool.spec.blockSize ?? ''} (VxNetPool: ${blockSize})`);
  return diffs.length === 0 ? undefined : diffs.join(', ');
}

export class VxNetPoolReconciler {
  readonly #o: VxNetPoolReconcilerOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #failpoint: ControllerFailpoint;
  /** Last reason per vxnet, so that events are emitted on transitions, not on every sync. */
  readonly #lastReason = new Map<string, string>();

  constructor(options: VxNetPoolReconcilerOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#now = options.now ?? (() => new Date());
    this.#failpoint = options.failpoint ?? noFailpoint;
  }

  async sync(name: string, signal?: AbortSignal): Promise<VxNetPoolSyncResult | undefined> {
    if (name !== VXNET_POOL_NAME) return undefined;
    const pool = await this.#o.pools.get(name);
    if (pool === undefined || pool.metadata.deletionTimestamp !== undefined) return undefined;
    const ref = vxnetPoolRef(pool.metadata.uid);

    let spec: VxNetPoolSpec;
    try {
      spec = specOf(pool);
    } catch (e) {
      if (!(e instanceof InvalidVxNetPoolSpecError)) throw e;
      this.#o.events.event(ref, 'Warning', 'InvalidSpec', e.message);
      await this.#writeStatus(pool, false, pool.status?.pools ?? [], {
        type: ConditionType.Ready,
        status: 'False',
        reason: 'InvalidSpec',
        message: e.message,
      }, undefined);
      return { ready: false, preps: [], draining: [] };
    }

    const ids = spec.vxnets.map((v) => v.name);
    const preps = await this.#o.iaas.prepare(ids, spec.customReservedIPCount ?? 0, signal);
    const existing = new Map((await this.#o.store.listPools()).map((v) => [v.object.metadata.name, v.object]));

    const outcomes: VxnetOutcome[] = [];
    for (const prep of preps) {
      signal?.throwIfAborted();
      outcomes.push(await this.#syncVxnet(prep, spec, existing.get(prep.vxnetId), ref));
    }
    const draining = await this.#drain(ids, [...existing.values()], ref, signal);

    const ready = outcomes.every((o) => o.ready);
    const notReady = outcomes.filter((o) => !o.ready);
    const readyCondition: ConditionInput = ready
      ? { type: ConditionType.Ready, status: 'True', reason: 'Ready', message: `${outcomes.length} vxnets prepared with their IPPools and blocks` }
      : {
          type: ConditionType.Ready,
          status: 'False',
          reason: notReady[0]?.reason ?? 'NotReady',
          message: notReady.map((o) => `${o.info.name}: ${o.message}`).join('; '),
        };
    const drainingCondition: ConditionInput | undefined =
      draining.length === 0
        ? undefined
        : {
            type: ConditionType.Draining,
            status: 'True',
            reason: 'AddressesInUse',
            message: `vxnets removed from spec.vxnets still hold pod addresses, no new ones are handed out there: ${draining.join(', ')}`,
          };
    await this.#writeStatus(pool, ready, outcomes.map((o) => o.info), readyCondition, drainingCondition);

    const pending = preps.some((p) => p.reason === PrepReason.VipsPending || p.reason === PrepReason.SecurityGroupRulePending);
    const requeueAfterMs = ready && draining.length === 0 ? (this.#o.readyResyncMs ?? 60_000) : pending ? (this.#o.pendingResyncMs ?? 3_000) : 10_000;
    return { ready, requeueAfterMs, preps, draining };
  }

  #transition(vxnetId: string, reason: string, message: string, ref: ReturnType<typeof vxnetPoolRef>): void {
    const key = `${reason}|${message}`;
    if (this.#lastReason.get(vxnetId) === key) return;
    const previous = this.#lastReason.get(vxnetId);
    this.#lastReason.set(vxnetId, key);
    if (reason === PrepReason.Ready) {
      if (previous === undefined || !previous.startsWith(`${PrepReason.Ready}|`)) {
        this.#o.events.event(ref, 'Normal', 'VxnetReady', `vxnet ${vxnetId}: ${message}`);
      }
      return;
    }
    const warning = reason !== PrepReason.VipsPending && reason !== PrepReason.SecurityGroupRulePending && reason !== 'BlocksPending';
    this.#o.events.event(ref, warning ? 'Warning' : 'Normal', reason, `vxnet ${vxnetId}: ${message}`);
    this.#log[warning ? 'warn' : 'info']('vxnet not ready', { vxnet: vxnetId, reason, message });
  }

  async #syncVxnet(prep: VxnetPrep, spec: VxNetPoolSpec, stored: IPPool | undefined, ref: ReturnType<typeof vxnetPoolRef>): Promise<VxnetOutcome> {
    const vxnetId = prep.vxnetId;
    let subnets: readonly string[] = [];
    const outcome = (ready: boolean, reason: string, message: string): VxnetOutcome => {
      this.#transition(vxnetId, reason, message, ref);
      return { info: { name: vxnetId, ippool: vxnetId, subnets: [...subnets].sort(compareBlockNames) }, ready, reason, message };
    };
    if (stored !== undefined) subnets = (await this.#o.store.listBlocks({ pool: vxnetId })).map((b) => b.object.metadata.name);

    // A pool that was complete stays usable through an IaaS outage: its VIPs were there when it was made.
    const transient = prep.reason === PrepReason.IaasError && stored !== undefined;
    if (!prep.ready && !transient) return outcome(false, prep.reason, prep.message);

    let pool = stored;
    if (prep.ready && prep.range !== undefined) {
      let blockSize: number;
      try {
        blockSize = resolveBlockSize(spec.blockSize, prep.range.network);
      } catch (e) {
        return outcome(false, 'InvalidBlockSize', `${errorText(e)} (vxnet ${vxnetId} is ${prep.range.network}); fix spec.blockSize of VxNetPool v-pool`);
      }
      if (pool === undefined) {
        pool = await this.#createPool(newIPPool(prep.range, blockSize), ref);
      } else {
        pool = await this.#enable(pool, ref);
        const drift = sameRange(pool, prep.range, blockSize);
        if (drift !== undefined) {
          // Blocks are cut from the stored spec and hold live addresses; changing them in place is unsafe.
          this.#o.events.event(ref, 'Warning', 'PoolSpecDrift', `IPPool ${vxnetId} differs from the IaaS and VxNetPool and is kept as it is: ${drift}`);
        }
      }
    }
    if (pool === undefined) return outcome(false, prep.reason, prep.message);

    if (stored === undefined) subnets = (await this.#o.store.listBlocks({ pool: vxnetId })).map((b) => b.object.metadata.name);
    const missing = missingBlocks(pool, subnets);
    if (missing.length > 0) {
      const created = await this.#createBlocks(missing, ref);
      if (!created) return outcome(false, 'BlocksPending', `waiting for the pod cache before creating ${missing.length} blocks (running pods' addresses are recovered into new blocks)`);
      // The list may come from a cache that has not seen the new blocks yet.
      subnets = [...subnets, ...missing.map((b) => b.metadata.name)];
    }
    if (transient) return outcome(true, PrepReason.Ready, `IPPool and blocks complete; the IaaS could not be checked just now (${prep.message})`);
    return outcome(true, PrepReason.Ready, prep.message);
  }

  async #createPool(pool: IPPool, ref: ReturnType<typeof vxnetPoolRef>): Promise<IPPool> {
    try {
      const created = (await this.#o.store.createPool(pool)).object;
      this.#o.events.event(ref, 'Normal', 'IPPoolCreated', `IPPool ${pool.metadata.name} created: ${pool.spec.cidr}, pods ${pool.spec.rangeStart ?? ''}-${pool.spec.rangeEnd ?? ''}, blocks /${pool.spec.blockSize ?? ''}`);
      this.#log.info('IPPool created', { pool: pool.metadata.name, cidr: pool.spec.cidr });
      await this.#failpoint('ippool:created');
      return created;
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      return (await this.#o.store.getPool(pool.metadata.name))?.object ?? pool;
    }
  }

  async #enable(pool: IPPool, ref: ReturnType<typeof vxnetPoolRef>): Promise<IPPool> {
    if (pool.spec.disabled !== true) return pool;
    const fresh = await this.#o.store.getPool(pool.metadata.name);
    if (fresh === undefined) return pool;
    const meta = fresh.object.metadata as PoolMeta;
    if (meta.deletionTimestamp !== undefined) return fresh.object;
    const { disabled: _disabled, ...rest } = fresh.object.spec;
    const updated = await this.#o.store.updatePool({ ...fresh.object, spec: rest }, fresh.version);
    this.#o.events.event(ref, 'Normal', 'VxnetEnabled', `vxnet ${pool.metadata.name} is in spec.vxnets again: IPPool enabled`);
    return updated.object;
  }

  async #createBlocks(blocks: readonly IPAMBlock[], ref: ReturnType<typeof vxnetPoolRef>): Promise<boolean> {
    const pods = this.#o.podAddresses();
    if (pods === undefined) return false;
    const handles = (await this.#o.store.listHandles()).map((h) => h.object.metadata.name);
    for (const [i, block] of blocks.entries()) {
      if (i > 0) await this.#failpoint('blocks:partial');
      const { block: recovered, recovered: taken, conflicts } = recoverBlock(block, pods, handles, this.#now());
      try {
        await this.#o.store.createBlock(recovered);
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        continue;
      }
      if (taken.length > 0) {
        this.#o.events.event(ref, 'Normal', 'AddressesRecovered', `block ${block.metadata.name} created with ${taken.length} addresses of running pods marked in use: ${taken.map((t) => `${t.ip} (${t.pod})`).join(', ')}`);
      }
      for (const c of conflicts) {
        this.#o.events.event(ref, 'Warning', 'AddressConflict', `block ${block.metadata.name}: pod ${c.pod} uses ${c.ip}, which cannot be recorded: ${c.reason}`);
      }
    }
    return true;
  }

  /** Vxnets our pools belong to that left the spec: disable, and once empty give back the IaaS side and delete. */
  async #drain(specIds: readonly string[], pools: readonly IPPool[], ref: ReturnType<typeof vxnetPoolRef>, signal: AbortSignal | undefined): Promise<string[]> {
    const draining: string[] = [];
    for (const listed of pools) {
      const name = listed.metadata.name;
      if (specIds.includes(name) || listed.metadata.labels?.[LABEL_CONTROLLER] === undefined) continue;
      if ((listed.metadata as PoolMeta).deletionTimestamp !== undefined) continue;
      if (listed.spec.disabled !== true) {
        const fresh = await this.#o.store.getPool(name);
        if (fresh === undefined) continue;
        await this.#o.store.updatePool({ ...fresh.object, spec: { ...fresh.object.spec, disabled: true } }, fresh.version);
        this.#o.events.event(ref, 'Normal', 'VxnetDraining', `vxnet ${name} was removed from spec.vxnets: IPPool ${name} disabled, no new addresses are handed out from it`);
        this.#log.info('draining vxnet', { vxnet: name });
      }
      const blocks = await this.#o.store.listBlocks({ pool: name });
      const inUse = blocks.filter((b) => !isBlockEmpty(b.object.spec)).length;
      if (inUse > 0) {
        draining.push(name);
        continue;
      }
      try {
        const released = await this.#o.iaas.release(name, signal);
        if (!released.done) {
          draining.push(name);
          this.#o.events.event(ref, 'Warning', 'VxnetReleasePending', `vxnet ${name}: ${released.message}`);
          continue;
        }
        await this.#failpoint('drain:iaas-released');
        await this.#o.store.deletePool(name);
        this.#lastReason.delete(name);
        this.#o.events.event(ref, 'Normal', 'VxnetRemoved', `vxnet ${name} is empty: ${released.message}; IPPool ${name} deleted`);
        this.#log.info('vxnet removed', { vxnet: name });
      } catch (e) {
        if (signal?.aborted === true) throw e;
        draining.push(name);
        this.#o.events.event(ref, 'Warning', 'VxnetReleaseFailed', `vxnet ${name}: giving back its IaaS resources failed, retried: ${errorText(e)}`);
      }
    }
    return draining;
  }

  async #writeStatus(
    pool: VxNetPoolObject,
    ready: boolean,
    pools: readonly PoolInfo[],
    readyCondition: ConditionInput,
    drainingCondition: ConditionInput | undefined,
  ): Promise<VxNetPoolStatusBody | undefined> {
    const now = this.#now();
    const generation = pool.metadata.generation;
    return this.#o.pools.updateStatus((status) => {
      let conditions = setCondition(status?.conditions, { ...readyCondition, ...(generation === undefined ? {} : { observedGeneration: generation }) }, now);
      conditions = drainingCondition === undefined ? removeCondition(conditions, ConditionType.Draining) : setCondition(conditions, drainingCondition, now);
      const { message: _m, process: _p, ...rest } = status ?? { ready };
      return { ...rest, ready, pools: pools.map((p) => ({ name: p.name, ippool: p.ippool, ...(p.subnets === undefined || p.subnets.length === 0 ? {} : { subnets: [...p.subnets] }) })), conditions };
    });
  }
}
