/**
 * The leader's work: the four work queues with their reconcilers, and the cleanup timers. Built afresh on
 * every acquisition of the lease, so that nothing stale survives a lost one; the signal of the term aborts
 * all of it at once.
 */
import type { KubeClient } from '@hostnic/runtime/kube/http';
import type { IaasClient } from '@hostnic/iaas-client';
import type { IPAMBlock, Ipam, IpamStore, LivePod, VxNetPoolStatus } from '@hostnic/ipam';
import { VXNET_POOL_NAME } from '@hostnic/ipam';
import { errorText, every, timed } from '@hostnic/runtime';
import type { Logger, Metrics } from '@hostnic/runtime';
import { IpamGarbageCollector } from '../cleanup/ipam-gc.ts';
import { NicJanitor, NodeInventory } from '../cleanup/index.ts';
import { HostMachineLabeler } from '../nodes/hostmachine-label.ts';
import type { SweepResult } from '../cleanup/index.ts';
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { EventSink } from '../event-sink.ts';
import type { Fence } from '../fence.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import { VxnetPreparer } from '../iaas/preparer.ts';
import type { SecurityGroupSource } from '../iaas/security-group.ts';
import { IPPoolReconciler } from '../ippool/reconciler.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import { NamespaceAutoAssigner } from '../namespaces/auto-assign.ts';
import { MappingValidator } from '../namespaces/mapping-validator.ts';
import type { ConditionInput } from '../resources/conditions.ts';
import type { VxNetPoolClient } from '../resources/vxnetpool.ts';
import { VxNetPoolReconciler } from '../vxnetpool/reconciler.ts';
import type { PodAddress } from '../vxnetpool/recovery.ts';
import type { ControllerInformers } from './informers.ts';
import { NodeInventoryStore } from './inventory-store.ts';
import { MAPPING_KEY } from './routing.ts';
import type { QueueName, Routing } from './routing.ts';

export interface LeaderDeps {
  readonly identity: string;
  readonly informers: ControllerInformers;
  readonly iaas: IaasClient;
  readonly securityGroup: SecurityGroupSource;
  readonly clusterConfig: () => ClusterConfig;
  /** Called once the caches are synced, before the term's reconcilers are built (reads clusterconfig). */
  readonly onSynced: () => void;
  readonly fence: Fence;
  readonly pools: VxNetPoolClient;
  readonly store: IpamStore;
  readonly ipam: Ipam;
  readonly kube: KubeClient;
  readonly events: EventSink;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly cooldownMs: number;
  readonly podAddresses: () => PodAddress[] | undefined;
  readonly livePods: () => LivePod[] | undefined;
  readonly podExists: (namespace: string, name: string) => Promise<boolean>;
  readonly namespaceView: (name: string) => { uid?: string; terminating: boolean } | undefined;
  readonly cachedBlocks: () => IPAMBlock[];
  readonly setVxNetPoolCondition: (condition: ConditionInput) => Promise<void>;
  readonly noteError: (where: string, e: unknown) => void;
  readonly workers?: number | undefined;
  readonly ipamGcIntervalMs?: number | undefined;
  readonly ipamLeakGraceMs?: number | undefined;
  /** 0 turns the NIC janitor off. */
  readonly nicGcIntervalMs?: number | undefined;
  readonly nicLeakGraceMs?: number | undefined;
  /** How often the host machine node label is kept; undefined or 0: not kept (opt-in). */
  readonly hostMachineLabelIntervalMs?: number | undefined;
  readonly jobTimeoutMs?: number | undefined;
  readonly pendingResyncMs?: number | undefined;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint | undefined;
}

interface Term {
  readonly queues: Readonly<Record<QueueName, WorkQueue>>;
  readonly assigner: NamespaceAutoAssigner;
  readonly ipamGc: IpamGarbageCollector;
  readonly janitor: NicJanitor | undefined;
  readonly inventory: NodeInventoryStore;
  /** Loops of this term that ended although the term goes on. */
  readonly ended: Set<string>;
}

type Work = (key: string) => Promise<void | { requeueAfterMs: number }>;

export class LeaderLoops {
  readonly #d: LeaderDeps;
  readonly #reconciles;
  readonly #durations;
  #term: Term | undefined;
  #lastVxNetPool: unknown;

  constructor(deps: LeaderDeps) {
    this.#d = deps;
    this.#reconciles = deps.metrics.counter('hostnic_controller_reconcile_total', 'Reconciles by controller and result.', ['controller', 'result']);
    this.#durations = deps.metrics.histogram('hostnic_controller_reconcile_duration_seconds', 'Reconcile duration by controller and result.', ['controller', 'result']);
  }

  get #failpoint(): ControllerFailpoint {
    return this.#d.failpoint ?? noFailpoint;
  }

  get leading(): boolean {
    return this.#term !== undefined;
  }

  /** The last result of v-pool's reconcile, for /status. */
  get lastVxNetPool(): unknown {
    return this.#lastVxNetPool;
  }

  /** Keys waiting per queue; empty while standing by. */
  queueDepths(): Partial<Record<QueueName, number>> {
    const t = this.#term;
    return t === undefined ? {} : Object.fromEntries(Object.entries(t.queues).map(([n, q]) => [n, q.length]));
  }

  /** While leading: every loop of the term still runs (a loop that ended on its own is a stuck controller). */
  alive(): boolean {
    return this.#term === undefined || this.#term.ended.size === 0;
  }

  get totals(): { ipamReleased: number; nicsDeleted: number } {
    return { ipamReleased: this.#term?.ipamGc.totals.released ?? 0, nicsDeleted: this.#term?.janitor?.totals.deleted ?? 0 };
  }

  /** Queues the keys of an event; nothing while standing by (the next term starts with a full pass). */
  route(r: Routing): void {
    const t = this.#term;
    if (t === undefined) return;
    for (const { queue, key } of r.keys) t.queues[queue].add(key);
    if (r.allNamespaces) this.#enqueueAllNamespaces(t);
  }

  #enqueueAllNamespaces(t: Term): void {
    for (const ns of this.#d.informers.namespaces.list()) if (ns.metadata?.name !== undefined) t.queues.namespace.add(ns.metadata.name);
    for (const ns of t.assigner.mappedNamespaces()) t.queues.namespace.add(ns);
  }

  /** The namespaces that own a block (auto mode), for routing block events. */
  ownersOf(block: string): Iterable<string> {
    return this.#term?.assigner.ownersOf(block) ?? [];
  }

  /** Runs the cleanup passes now; only on the leader. */
  async runCleanup(): Promise<{ ipam?: unknown; nics?: SweepResult | undefined }> {
    const t = this.#term;
    if (t === undefined) return {};
    const ipam = await t.ipamGc.run();
    return { ipam, nics: await this.#sweepNics(t) };
  }

  /** One term: waits for the caches, builds the reconcilers and runs every loop until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const d = this.#d;
    d.log.info('leading: waiting for caches', { identity: d.identity });
    await Promise.all(Object.values(d.informers).map((i) => i.synced(signal)));
    d.onSynced();
    const t = await this.#newTerm();
    const vxnet = new VxNetPoolReconciler({
      pools: d.pools,
      store: d.store,
      iaas: new VxnetPreparer({ iaas: d.iaas, securityGroup: d.securityGroup, fence: d.fence, log: d.log, jobTimeoutMs: d.jobTimeoutMs ?? 60_000, failpoint: this.#failpoint }),
      events: d.events,
      podAddresses: d.podAddresses,
      log: d.log,
      pendingResyncMs: d.pendingResyncMs ?? 3_000,
      failpoint: this.#failpoint,
    });
    const ippool = new IPPoolReconciler({ store: d.store, events: d.events, log: d.log, cooldownMs: d.cooldownMs, failpoint: this.#failpoint });
    const validator = new MappingValidator({ store: d.store, events: d.events, setCondition: d.setVxNetPoolCondition });
    this.#term = t;
    t.queues.vxnetpool.add(VXNET_POOL_NAME);
    t.queues.mapping.add(MAPPING_KEY);
    for (const p of d.informers.ippools.list()) if (p.metadata.name !== undefined) t.queues.ippool.add(p.metadata.name);
    // The assigner learns the mapping on its first sync; namespaces are queued again when it changes.
    this.#enqueueAllNamespaces(t);
    d.log.info('leading: reconcilers started', { identity: d.identity });
    const requeue = (r: { requeueAfterMs?: number } | undefined): void | { requeueAfterMs: number } =>
      r?.requeueAfterMs === undefined ? undefined : { requeueAfterMs: r.requeueAfterMs };
    try {
      await Promise.all([
        this.#loop(t, 'vxnetpool', signal, this.#queue(t, 'vxnetpool', 1, signal, async (key) => {
          const r = await vxnet.sync(key, signal);
          this.#lastVxNetPool = r;
          return requeue(r);
        })),
        this.#loop(t, 'ippool', signal, this.#queue(t, 'ippool', d.workers ?? 2, signal, async (key) => requeue(await ippool.sync(key)))),
        this.#loop(t, 'namespace', signal, this.#queue(t, 'namespace', 1, signal, async (key) => requeue(await t.assigner.sync(key)))),
        this.#loop(t, 'mapping', signal, this.#queue(t, 'mapping', 1, signal, async () => {
          await validator.sync();
        })),
        this.#loop(t, 'ipam-gc', signal, this.#periodic(d.ipamGcIntervalMs ?? 5 * 60_000, 'IPAM garbage collection', () => t.ipamGc.run(), signal)),
        t.janitor === undefined
          ? Promise.resolve()
          : this.#loop(t, 'nic-gc', signal, this.#periodic(d.nicGcIntervalMs ?? 5 * 60_000, 'NIC cleanup', () => this.#sweepNics(t, signal), signal)),
        this.#hostMachineLoop(t, signal),
      ]);
    } finally {
      if (this.#term === t) this.#term = undefined;
      for (const q of Object.values(t.queues)) q.shutdown();
      d.log.info('stopped leading', { identity: d.identity });
    }
  }

  async #newTerm(): Promise<Term> {
    const d = this.#d;
    const assigner = new NamespaceAutoAssigner({
      store: d.store,
      events: d.events,
      namespace: d.namespaceView,
      blocks: d.cachedBlocks,
      vxnetPoolStatus: async (): Promise<VxNetPoolStatus | undefined> => (await d.pools.get())?.status,
      setCondition: d.setVxNetPoolCondition,
      log: d.log,
      failpoint: this.#failpoint,
    });
    const ipamGc = new IpamGarbageCollector({
      ipam: d.ipam, livePods: d.livePods, podExists: d.podExists, events: d.events, log: d.log,
      // The address claims of nodes that are gone are collected; none while the node cache is not synced.
      liveNodes: () => (d.informers.nodes.hasSynced ? d.informers.nodes.list().map((n) => n.metadata?.name ?? '') : undefined),
      ...(d.ipamLeakGraceMs === undefined ? {} : { graceMs: d.ipamLeakGraceMs }),
    });
    const janitor = d.nicGcIntervalMs === 0
      ? undefined
      : new NicJanitor({
        iaas: d.iaas, clusterTags: d.clusterConfig().tagIds, fence: d.fence, log: d.log, jobTimeoutMs: d.jobTimeoutMs ?? 60_000,
        ...(d.nicLeakGraceMs === undefined ? {} : { graceMs: d.nicLeakGraceMs }),
        failpoint: this.#failpoint,
      });
    const inventory = new NodeInventoryStore({ client: d.kube, fence: d.fence, log: d.log, inventory: new NodeInventory() });
    await inventory.load();
    const queues = {
      vxnetpool: new WorkQueue({ name: 'vxnetpool' }),
      ippool: new WorkQueue({ name: 'ippool' }),
      namespace: new WorkQueue({ name: 'namespace' }),
      mapping: new WorkQueue({ name: 'mapping' }),
    };
    return { queues, assigner, ipamGc, janitor, inventory, ended: new Set() };
  }

  /** The host machine label, at the start of the term and then every interval (when turned on). */
  #hostMachineLoop(t: Term, signal: AbortSignal): Promise<void> {
    const d = this.#d;
    const intervalMs = d.hostMachineLabelIntervalMs ?? 0;
    if (intervalMs <= 0) return Promise.resolve();
    const labeler = new HostMachineLabeler({
      iaas: d.iaas,
      client: d.kube,
      nodes: () => d.informers.nodes.list(),
      clusterId: () => d.clusterConfig().clusterId,
      log: d.log,
    });
    const pass = (): Promise<unknown> => labeler.run(signal);
    void pass().catch((e: unknown) => {
      if (!signal.aborted) d.log.warn('host machine labels failed; retried at the next interval', { error: errorText(e) });
    });
    return this.#loop(t, 'hostmachine-label', signal, this.#periodic(intervalMs, 'host machine labels', pass, signal));
  }

  /** Marks a loop that ends before its term does, for the liveness check. */
  async #loop(t: Term, name: string, signal: AbortSignal, running: Promise<void>): Promise<void> {
    try {
      await running;
    } finally {
      if (!signal.aborted) {
        t.ended.add(name);
        this.#d.log.error('a leader loop ended before its term', { loop: name });
      }
    }
  }

  #queue(t: Term, name: QueueName, workers: number, signal: AbortSignal, work: Work): Promise<void> {
    return t.queues[name].run(
      workers,
      async (key) => {
        try {
          const r = await timed(this.#durations, { controller: name }, () => work(key));
          this.#reconciles.inc({ controller: name, result: 'success' });
          return r;
        } catch (e) {
          this.#reconciles.inc({ controller: name, result: 'error' });
          if (!signal.aborted) {
            this.#d.log.warn('reconcile failed; retried with backoff', { controller: name, key, error: errorText(e) });
            this.#d.noteError(`${name}/${key}`, e);
          }
          throw e;
        }
      },
      signal,
    );
  }

  /** `fn` every `everyMs` until the term ends; a failure is logged and tried again at the next interval. */
  #periodic(everyMs: number, what: string, fn: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
    const timer = every(everyMs, async () => {
      await fn();
    }, (e) => {
      if (signal.aborted) return;
      this.#d.log.warn(`${what} failed; tried again at the next interval`, { error: errorText(e) });
      this.#d.noteError(what, e);
    });
    return new Promise((resolve) => {
      const stop = (): void => void timer.stop().then(resolve);
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  async #sweepNics(t: Term, signal?: AbortSignal): Promise<SweepResult | undefined> {
    const nodes = this.#d.informers.nodes;
    if (t.janitor === undefined || !nodes.hasSynced) return undefined;
    await t.inventory.observe(nodes.list());
    return t.janitor.sweep(t.inventory.view(), signal);
  }
}
