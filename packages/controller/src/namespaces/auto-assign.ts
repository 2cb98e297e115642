/**
 * Auto mode (`subnet-auto-assign: "on"`, spec ipam-controller 3.5 with 6 items 13-14 fixed): a namespace gets a
 * free block when it appears and another only when all of its blocks are full; a deleted namespace gives back
 * only the blocks that hold no address, the rest once they empty. Exhaustion is reported as an Event on the
 * namespace and as condition SubnetsAvailable on VxNetPool v-pool, not only in logs.
 */
import type { IPAMBlock, IpamConfig, IpamStore, VxNetPoolStatus } from '@hostnic/ipam';
import {
  CONFIG_KEY_IPAM,
  ConflictError,
  InvalidConfigError,
  MappingMode,
  NoSubnetForNamespaceError,
  VxNetPoolNotReadyError,
  decideNamespaceMapping,
  freeCount,
  isBlockEmpty,
  parseIpamConfig,
  serializeIpamMapping,
} from '@hostnic/ipam';
import type { BlockState } from '@hostnic/ipam';
import type { EventSink } from '../event-sink.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import type { Logger } from '@hostnic/runtime';
import { silentLogger } from '@hostnic/runtime';
import { ConditionType } from '../resources/conditions.ts';
import type { ConditionInput } from '../resources/conditions.ts';

/** What the worker knows about a namespace; undefined from the lookup = the namespace does not exist. */
export interface NamespaceView {
  readonly uid?: string;
  readonly terminating: boolean;
}

export interface AutoAssignOptions {
  readonly store: IpamStore;
  readonly events: EventSink;
  /** The namespace from the cache; undefined when it does not exist. */
  readonly namespace: (name: string) => NamespaceView | undefined;
  /** Every block (from the cache). */
  readonly blocks: () => readonly IPAMBlock[];
  /** VxNetPool v-pool's status, read fresh. */
  readonly vxnetPoolStatus: () => Promise<VxNetPoolStatus | undefined>;
  /** Sets a condition on VxNetPool v-pool. */
  readonly setCondition: (condition: ConditionInput) => Promise<void>;
  readonly log?: Logger;
  /** Retry of a namespace that found no free block or a pool not ready yet (default 30 s). */
  readonly retryMs?: number;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint;
}

export interface AutoAssignResult {
  readonly changed: boolean;
  readonly added?: string;
  readonly removed?: readonly string[];
  readonly requeueAfterMs?: number;
}

function namespaceRef(name: string, uid: string | undefined): { apiVersion: string; kind: string; metadata: { name: string; uid?: string } } {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(uid === undefined ? {} : { uid }) } };
}

export class NamespaceAutoAssigner {
  readonly #o: AutoAssignOptions;
  readonly #log: Logger;
  /** Namespaces that needed a block and found none; SubnetsAvailable is False while any is left. */
  readonly #starved = new Set<string>();
  #reported: boolean | undefined;
  /** The last configuration read, so that block events can be mapped to the namespace that owns the block. */
  #config: IpamConfig | undefined;

  constructor(options: AutoAssignOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
  }

  /** The namespaces a block is mapped to (in the last configuration read). */
  ownersOf(block: string): string[] {
    const owners: string[] = [];
    for (const [namespace, blocks] of this.#config?.namespaces ?? []) if (blocks.includes(block)) owners.push(namespace);
    return owners;
  }

  /** Every namespace named in the last configuration read. */
  mappedNamespaces(): string[] {
    return [...(this.#config?.namespaces.keys() ?? [])];
  }

  async sync(name: string): Promise<AutoAssignResult> {
    const current = await this.#o.store.getIpamConfig();
    if (current === undefined) return { changed: false };
    let config: IpamConfig;
    try {
      config = parseIpamConfig(current.object);
    } catch (e) {
      // The mapping validator reports the problem on v-pool and on the ConfigMap; a fix re-triggers everything.
      if (e instanceof InvalidConfigError) return { changed: false };
      throw e;
    }
    this.#config = config;
    if (config.mode !== MappingMode.Auto) {
      await this.#settle(name, true);
      return { changed: false };
    }

    const ns = this.#o.namespace(name);
    const blocks = new Map<string, BlockState>(
      this.#o.blocks().map((b) => [b.metadata.name, { free: freeCount(b.spec), empty: isBlockEmpty(b.spec) }]),
    );
    const needsPool = ns !== undefined && !ns.terminating;
    let decision;
    try {
      decision = decideNamespaceMapping({
        config,
        namespace: name,
        active: needsPool,
        blocks,
        vxnetPool: needsPool ? await this.#o.vxnetPoolStatus() : undefined,
      });
    } catch (e) {
      if (e instanceof VxNetPoolNotReadyError) {
        this.#log.info('namespace waits for VxNetPool v-pool to be ready', { namespace: name });
        return { changed: false, requeueAfterMs: this.#o.retryMs ?? 30_000 };
      }
      if (e instanceof NoSubnetForNamespaceError) {
        this.#o.events.event(namespaceRef(name, ns?.uid), 'Warning', 'NoFreeSubnet',
          `no free block for namespace ${name} in auto mode: every block of VxNetPool v-pool is mapped; add a vxnet to spec.vxnets, use a smaller spec.blockSize, or delete unused namespaces`);
        await this.#settle(name, false);
        return { changed: false, requeueAfterMs: this.#o.retryMs ?? 30_000 };
      }
      throw e;
    }
    if (decision.changed) {
      try {
        await this.#o.store.setIpamConfig({ ...current.object, [CONFIG_KEY_IPAM]: serializeIpamMapping(decision.config) }, current.version);
      } catch (e) {
        // Another writer (an admin, another namespace's sync) changed the map: decide again on the fresh one.
        if (e instanceof ConflictError) return { changed: false, requeueAfterMs: 0 };
        throw e;
      }
      await (this.#o.failpoint ?? noFailpoint)('mapping:written');
      this.#config = decision.config;
      if (decision.added !== undefined) {
        this.#o.events.event(namespaceRef(name, ns?.uid), 'Normal', 'SubnetAssigned', `block ${decision.added} assigned to namespace ${name} (auto mode)`);
        this.#log.info('block assigned to namespace', { namespace: name, block: decision.added });
      }
      if (decision.removed !== undefined && decision.removed.length > 0) {
        this.#log.info('blocks of a deleted namespace given back', { namespace: name, blocks: decision.removed });
      }
    }
    await this.#settle(name, true);
    return {
      changed: decision.changed,
      ...(decision.added === undefined ? {} : { added: decision.added }),
      ...(decision.removed === undefined ? {} : { removed: decision.removed }),
    };
  }

  async #settle(name: string, satisfied: boolean): Promise<void> {
    if (satisfied) this.#starved.delete(name);
    else this.#starved.add(name);
    const ok = this.#starved.size === 0;
    if (this.#reported === ok) return;
    const starved = [...this.#starved].sort();
    await this.#o.setCondition(
      ok
        ? { type: ConditionType.SubnetsAvailable, status: 'True', reason: 'SubnetsAvailable', message: 'every namespace that needs a block has one' }
        : { type: ConditionType.SubnetsAvailable, status: 'False', reason: 'NoFreeSubnet', message: `namespaces without a free block (auto mode): ${starved.join(', ')}` },
    );
    this.#reported = ok;
  }
}
