/**
 * The IPPool reconciler (spec ipam-controller 4.4, with its 409-on-every-second-write fixed by re-reading
 * between writes): the finalizer and the name/type/id labels, the utilisation status, and the deletion flow —
 * disable, delete the empty blocks, and drop the finalizer once no block is left. A block that still holds
 * addresses keeps the pool (and its finalizer) until the addresses are released.
 */
import type { IPAMBlock, IPPool, IpamStore, Versioned } from '@hostnic/ipam';
import {
  FINALIZER_IPPOOL,
  PoolType,
  availableCount,
  ippoolLabels,
  ippoolStatus,
  isBlockEmpty,
  missingBlocks,
  poolUtilisation,
} from '@hostnic/ipam';
import type { EventSink } from '../event-sink.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import { canonicalJson } from '../json.ts';
import type { Logger } from '@hostnic/runtime';
import { silentLogger } from '@hostnic/runtime';

type PoolMeta = IPPool['metadata'] & { readonly deletionTimestamp?: string; readonly finalizers?: readonly string[]; readonly uid?: string };

export interface IPPoolReconcilerOptions {
  readonly store: IpamStore;
  readonly events: EventSink;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Release cooldown of the allocators, to report cooling addresses (default 60 s). */
  readonly cooldownMs?: number;
  /** Revisit of a pool being deleted that still holds addresses (default 10 s). */
  readonly deletingResyncMs?: number;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint;
}

export interface IPPoolSyncResult {
  readonly requeueAfterMs?: number;
  /** Blocks deleted in this sync. */
  readonly deletedBlocks: readonly string[];
  readonly finalized: boolean;
}

function metaOf(pool: IPPool): PoolMeta {
  return pool.metadata as PoolMeta;
}

function ref(pool: IPPool): { apiVersion: string; kind: string; metadata: { name: string; uid?: string } } {
  const uid = metaOf(pool).uid;
  return { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPPool', metadata: { name: pool.metadata.name, ...(uid === undefined ? {} : { uid }) } };
}

/** `vlan` pools are handled like `local` ones, as the original does; others (calico, porter) are not ours. */
function isOurs(pool: IPPool): boolean {
  return pool.spec.type === PoolType.Local || pool.spec.type === PoolType.Vlan;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export class IPPoolReconciler {
  readonly #o: IPPoolReconcilerOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #failpoint: ControllerFailpoint;

  constructor(options: IPPoolReconcilerOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#now = options.now ?? (() => new Date());
    this.#failpoint = options.failpoint ?? noFailpoint;
  }

  async sync(name: string): Promise<IPPoolSyncResult> {
    const store = this.#o.store;
    let current = await store.getPool(name);
    if (current === undefined || !isOurs(current.object)) return { deletedBlocks: [], finalized: false };
    const meta = metaOf(current.object);
    const finalizers = meta.finalizers ?? [];

    if (meta.deletionTimestamp !== undefined) {
      if (!finalizers.includes(FINALIZER_IPPOOL)) return { deletedBlocks: [], finalized: false };
      return this.#finalize(current);
    }

    const labels = ippoolLabels(current.object);
    if (!finalizers.includes(FINALIZER_IPPOOL) || !sameLabels(current.object.metadata.labels ?? {}, labels)) {
      const pool = current.object;
      const updated: IPPool = {
        ...pool,
        metadata: { ...pool.metadata, labels, finalizers: [...finalizers.filter((f) => f !== FINALIZER_IPPOOL), FINALIZER_IPPOOL] } as PoolMeta,
      };
      current = await store.updatePool(updated, current.version);
      await this.#failpoint('ippool:finalizer');
    }
    await this.#writeStatus(current);
    return { deletedBlocks: [], finalized: false };
  }

  async #writeStatus(current: Versioned<IPPool>): Promise<void> {
    const blocks = (await this.#o.store.listBlocks({ pool: current.object.metadata.name })).map((b) => b.object);
    // Lists may come from a cache that has not seen blocks created a moment ago: read the missing ones, so the
    // status does not count their reserved addresses as free in between.
    let missing: IPAMBlock[] = [];
    try {
      missing = missingBlocks(current.object, blocks.map((b) => b.metadata.name));
    } catch {
      // A pool whose spec cannot be cut into blocks has nothing more to read.
    }
    for (const want of missing) {
      const found = await this.#o.store.getBlock(want.metadata.name);
      if (found !== undefined) blocks.push(found.object);
    }
    const status = ippoolStatus(poolUtilisation(current.object, blocks));
    if (sameJson(current.object.status, status)) return;
    await this.#o.store.updatePoolStatus(current.object.metadata.name, status, current.version);
  }

  async #finalize(current: Versioned<IPPool>): Promise<IPPoolSyncResult> {
    const store = this.#o.store;
    const name = current.object.metadata.name;
    if (current.object.spec.disabled !== true) {
      current = await store.updatePool({ ...current.object, spec: { ...current.object.spec, disabled: true } }, current.version);
    }
    const deleted: string[] = [];
    let left = 0;
    for (const listed of await store.listBlocks({ pool: name })) {
      // Re-read: the delete is conditional on the version that was seen empty, so a racing allocation wins.
      const fresh = await store.getBlock(listed.object.metadata.name);
      if (fresh === undefined) continue;
      if (!isBlockEmpty(fresh.object.spec)) {
        left++;
        continue;
      }
      try {
        await store.deleteBlock(fresh.object.metadata.name, fresh.version);
        deleted.push(fresh.object.metadata.name);
      } catch (e) {
        this.#log.warn('deleting an empty block of a pool being deleted failed; retried', { pool: name, block: fresh.object.metadata.name, error: e instanceof Error ? e.message : String(e) });
        left++;
      }
    }
    if (left > 0) {
      const now = this.#now();
      const inUse = (await store.listBlocks({ pool: name })).reduce(
        (n, b) => n + (b.object.spec.allocations.length - availableCount(b.object.spec, { now, cooldownMs: this.#o.cooldownMs ?? 60_000 })),
        0,
      );
      this.#o.events.event(ref(current.object), 'Normal', 'DeletionWaiting', `IPPool ${name} is being deleted: ${left} blocks still hold pod addresses (${inUse} addresses not free); it goes once they are released`);
      await this.#writeStatus(current).catch(() => undefined);
      return { requeueAfterMs: this.#o.deletingResyncMs ?? 10_000, deletedBlocks: deleted, finalized: false };
    }
    if (deleted.length > 0) await this.#failpoint('ippool:blocks-deleted');
    const fresh = await store.getPool(name);
    if (fresh === undefined) return { deletedBlocks: deleted, finalized: true };
    const meta = metaOf(fresh.object);
    await store.updatePool(
      { ...fresh.object, metadata: { ...fresh.object.metadata, finalizers: (meta.finalizers ?? []).filter((f) => f !== FINALIZER_IPPOOL) } as PoolMeta },
      fresh.version,
    );
    this.#o.events.event(ref(current.object), 'Normal', 'IPPoolDeleted', `IPPool ${name}: every block was empty and is deleted; finalizer removed`);
    this.#log.info('IPPool finalized', { pool: name, deletedBlocks: deleted.length });
    return { deletedBlocks: deleted, finalized: true };
  }
}
