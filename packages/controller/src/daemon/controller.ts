/**
 * `hostnic-controller run`: informers on every replica (so a stand-by takes over with warm caches), leader
 * election on a Lease, and — only while leading — the work queues, the reconcilers and the cleanup timers.
 * Every write goes through the leader fence; losing the lease aborts the leader's work at once.
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig, V1ConfigMap, V1Namespace, V1Node } from '@kubernetes/client-node';
import type { IaasClient } from '@hostnic/iaas-client';
import type { IPAMBlock, LivePod } from '@hostnic/ipam';
import { API_GROUP, DEFAULT_RELEASE_COOLDOWN_MS, IPAM_CONFIGMAP_NAME, IPAM_CONFIGMAP_NAMESPACE, Ipam, LABEL_POOL_NAME, VXNET_POOL_NAME, freeCount, isBlockEmpty } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import type { KubernetesListCache } from '@hostnic/ipam/kubernetes';
import { IpamGarbageCollector } from '../cleanup/ipam-gc.ts';
import { isFinishedPod, livePodOf } from '../cli/kube.ts';
import { isNotFound } from '../kube/status.ts';
import { NicJanitor, NodeInventory } from '../cleanup/index.ts';
import type { SweepResult } from '../cleanup/index.ts';
import { CLUSTER_CONFIGMAP, NO_CLUSTER_CONFIG, parseClusterConfig } from '../config/cluster-config.ts';
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { EventSink } from '../event-sink.ts';
import { fenceOf } from '../fence.ts';
import { VxnetPreparer } from '../iaas/preparer.ts';
import { clusterSecurityGroup } from '../iaas/security-group.ts';
import type { SecurityGroupSource } from '../iaas/security-group.ts';
import { IPPoolReconciler } from '../ippool/reconciler.ts';
import { configMapInformer, customResourceInformer, namespaceInformer, nodeInformer, podInformer } from '../kube/informers.ts';
import type { CustomObject } from '../kube/informers.ts';
import type { Informer } from '../kube/informer.ts';
import { EventRecorder } from '../kube/events.ts';
import { LeaderElector } from '../kube/leader.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { Logger } from '../log.ts';
import { errorText, silentLogger } from '../log.ts';
import { NamespaceAutoAssigner } from '../namespaces/auto-assign.ts';
import { MappingValidator } from '../namespaces/mapping-validator.ts';
import { setCondition } from '../resources/conditions.ts';
import type { ConditionInput } from '../resources/conditions.ts';
import { fencedStore } from '../resources/fenced-store.ts';
import { VxNetPoolClient } from '../resources/vxnetpool.ts';
import { VxNetPoolReconciler } from '../vxnetpool/reconciler.ts';
import type { PodAddress } from '../vxnetpool/recovery.ts';
import { MetricsRegistry } from './metrics.ts';
import { startHttpServer } from './http.ts';
import type { HttpServer } from './http.ts';
import { NodeInventoryStore } from './inventory-store.ts';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly iaas: IaasClient;
  /** This replica's name in the Lease (the pod name in a Deployment). */
  readonly identity: string;
  readonly lease?: { readonly namespace?: string; readonly name?: string; readonly durationMs?: number; readonly renewDeadlineMs?: number; readonly retryPeriodMs?: number };
  /** qingcloud.yaml from a file; when absent it is read (and watched) in ConfigMap kube-system/clusterconfig. */
  readonly clusterConfig?: ClusterConfig;
  readonly workers?: number;
  readonly resyncMs?: number;
  readonly ipamGcIntervalMs?: number;
  readonly ipamLeakGraceMs?: number;
  readonly nicGcIntervalMs?: number;
  readonly nicLeakGraceMs?: number;
  /** 0 turns the NIC janitor off. */
  readonly cooldownMs?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly log?: Logger;
  /** IaaS job waits (default 60 s). */
  readonly jobTimeoutMs?: number;
  /** Resync of a pool while IaaS jobs are pending (default 3 s). */
  readonly pendingResyncMs?: number;
  readonly informerBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Sees every write that passed the leader fence (tests). */
  readonly observeWrites?: (operation: string) => void;
}

export interface RunningController {
  readonly port: number | undefined;
  isLeader(): boolean;
  /** Caches synced. */
  ready(): boolean;
  status(): ControllerStatus;
  /** Runs the cleanup passes now (tests, `kill -USR1`-like operations); only on the leader. */
  runCleanup(): Promise<{ ipam?: unknown; nics?: SweepResult | undefined }>;
  stop(): Promise<void>;
}

export interface ControllerStatus {
  readonly identity: string;
  readonly leader: boolean;
  readonly synced: Record<string, boolean>;
  readonly queues: Record<string, number>;
  readonly lastVxNetPool?: unknown;
  readonly lastErrors: readonly { readonly at: string; readonly where: string; readonly error: string }[];
}

const CRD_VERSION = 'v1alpha1';

/** Custom objects stay plain JSON here: the IPAM store and the reconcilers read them as CRD-shaped data. */
function rawObject(raw: unknown): CustomObject {
  const o = raw as CustomObject | null;
  if (o === null || typeof o !== 'object' || typeof o.metadata?.name !== 'string') throw new Error('custom object without metadata.name');
  return o;
}

function labelMatch(labels: Readonly<Record<string, string>> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  const [key, value] = selector.split('=');
  return key !== undefined && labels?.[key] === value;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const log = options.log ?? silentLogger;
  const kc = options.kubeConfig;
  const resyncMs = options.resyncMs ?? 30_000;
  const settings = { resyncMs, log, ...(options.informerBackoff === undefined ? {} : { backoff: options.informerBackoff }) };
  const crd = (plural: string): Informer<CustomObject> =>
    customResourceInformer(kc, { group: API_GROUP, version: CRD_VERSION, plural }, { ...settings, parse: rawObject });

  const informers = {
    vxnetpools: crd('vxnetpools'),
    ippools: crd('ippools'),
    ipamblocks: crd('ipamblocks'),
    namespaces: namespaceInformer(kc, settings),
    pods: podInformer(kc, settings),
    nodes: nodeInformer(kc, settings),
    ipamConfig: configMapInformer(kc, IPAM_CONFIGMAP_NAMESPACE, IPAM_CONFIGMAP_NAME, settings),
    clusterConfig: configMapInformer(kc, CLUSTER_CONFIGMAP.namespace, CLUSTER_CONFIGMAP.name, settings),
  };
  const all = Object.values(informers) as Informer<{ metadata?: object }>[];
  const synced = (): boolean => all.every((i) => i.hasSynced);

  const metrics = new MetricsRegistry();
  const lastErrors: { at: string; where: string; error: string }[] = [];
  const noteError = (where: string, e: unknown): void => {
    lastErrors.push({ at: new Date().toISOString(), where, error: errorText(e) });
    if (lastErrors.length > 20) lastErrors.shift();
  };

  const elector = new LeaderElector({
    kubeConfig: kc,
    namespace: options.lease?.namespace ?? 'kube-system',
    name: options.lease?.name ?? 'hostnic-controller',
    identity: options.identity,
    leaseDurationMs: options.lease?.durationMs ?? 15_000,
    renewDeadlineMs: options.lease?.renewDeadlineMs ?? 10_000,
    retryPeriodMs: options.lease?.retryPeriodMs ?? 2_000,
    log,
  });
  const fence = fenceOf(() => elector.isLeader(), options.observeWrites);
  const recorder = new EventRecorder({ kubeConfig: kc, identity: options.identity, log });
  // Events are writes too: a stand-by replica stays silent.
  const events: EventSink = { event: (o, t, r, m) => (elector.isLeader() ? recorder.event(o, t, r, m) : undefined) };

  // Lists of IPAM objects come from the informers once they are synced; gets always go to the API.
  const listCache: KubernetesListCache = {
    list(plural, selector) {
      const inf = plural === 'ippools' ? informers.ippools : plural === 'ipamblocks' ? informers.ipamblocks : undefined;
      if (inf === undefined || !inf.hasSynced) return undefined;
      return inf.list().filter((o) => labelMatch(o.metadata.labels, selector));
    },
  };
  const baseStore = KubernetesIpamStore.fromKubeConfig(kc, { listCache });
  const store = fencedStore(baseStore, fence);
  const pools = new VxNetPoolClient(kc.makeApiClient(CustomObjectsApi), fence);
  const core = kc.makeApiClient(CoreV1Api);
  const cooldownMs = options.cooldownMs ?? DEFAULT_RELEASE_COOLDOWN_MS;
  const ipam = new Ipam(store, { cooldownMs });

  let clusterConfig: ClusterConfig = options.clusterConfig ?? NO_CLUSTER_CONFIG;
  // The ConfigMap's resyncs re-deliver the same text: only a change is parsed again.
  let clusterConfigText: string | undefined;
  const readClusterConfig = (cm: V1ConfigMap | undefined): void => {
    if (options.clusterConfig !== undefined) return;
    const text = cm?.data?.[CLUSTER_CONFIGMAP.key];
    if (text === clusterConfigText && text !== undefined) return;
    clusterConfigText = text;
    try {
      clusterConfig = text === undefined ? NO_CLUSTER_CONFIG : parseClusterConfig(text, `ConfigMap ${CLUSTER_CONFIGMAP.namespace}/${CLUSTER_CONFIGMAP.name}`);
    } catch (e) {
      log.error('cluster config is invalid; the last good one stays in use', { error: errorText(e) });
      noteError('clusterconfig', e);
    }
  };
  // Rebuilt only when the cluster config changes, so that its looked-up group is cached between syncs.
  let sg: { readonly config: ClusterConfig; readonly source: SecurityGroupSource } | undefined;
  const sgSource: SecurityGroupSource = {
    current: (signal) => {
      if (sg?.config !== clusterConfig) {
        sg = { config: clusterConfig, source: clusterSecurityGroup({ iaas: options.iaas, clusterId: clusterConfig.clusterId, securityGroup: clusterConfig.securityGroup }) };
      }
      return sg.source.current(signal);
    },
  };

  const podAddresses = (): PodAddress[] | undefined => {
    if (!informers.pods.hasSynced) return undefined;
    return informers.pods
      .list()
      .filter((p) => !isFinishedPod(p) && p.spec?.hostNetwork !== true && p.status?.podIP !== undefined && p.status.podIP !== '')
      .map((p) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', ip: p.status?.podIP ?? '', node: p.spec?.nodeName ?? '' }));
  };
  const livePods = (): LivePod[] | undefined => {
    if (!informers.pods.hasSynced) return undefined;
    return informers.pods.list().flatMap((p) => livePodOf(p) ?? []);
  };
  const podExists = async (namespace: string, name: string): Promise<boolean> => {
    try {
      const pod = await core.readNamespacedPod({ namespace, name });
      return !isFinishedPod(pod);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  };
  const cachedBlocks = (): IPAMBlock[] => informers.ipamblocks.list() as unknown as IPAMBlock[];
  const setVpoolCondition = async (condition: ConditionInput): Promise<void> => {
    await pools.updateStatus((status) => ({ ...(status ?? { ready: false }), conditions: setCondition(status?.conditions, condition, new Date()) }));
  };

  // The leader's world; rebuilt on every acquisition so that nothing stale survives a lost lease.
  interface Leading {
    readonly vxnet: WorkQueue;
    readonly ippool: WorkQueue;
    readonly namespace: WorkQueue;
    readonly mapping: WorkQueue;
    readonly assigner: NamespaceAutoAssigner;
    readonly ipamGc: IpamGarbageCollector;
    readonly janitor: NicJanitor | undefined;
    readonly inventory: NodeInventoryStore;
  }
  let leading: Leading | undefined;
  let lastVxNetPool: unknown;
  const reconcileTotal = metrics.counter('hostnic_controller_reconcile_total', 'Reconciles by controller and result.');

  const enqueueAllNamespaces = (l: Leading): void => {
    for (const ns of informers.namespaces.list()) if (ns.metadata?.name !== undefined) l.namespace.add(ns.metadata.name);
    for (const ns of l.assigner.mappedNamespaces()) l.namespace.add(ns);
  };

  informers.vxnetpools.onEvent((e) => {
    const l = leading;
    if (l === undefined || e.object.metadata.name !== VXNET_POOL_NAME) return;
    l.vxnet.add(VXNET_POOL_NAME);
    const wasReady = (e.old?.status as { ready?: boolean } | undefined)?.ready === true;
    if (!wasReady && (e.object.status as { ready?: boolean } | undefined)?.ready === true) enqueueAllNamespaces(l);
  });
  informers.ippools.onEvent((e) => {
    const l = leading;
    if (l === undefined) return;
    if (e.object.metadata.name !== undefined) l.ippool.add(e.object.metadata.name);
    if (e.type !== 'resync') {
      l.vxnet.add(VXNET_POOL_NAME);
      l.mapping.add('mapping');
    }
  });
  informers.ipamblocks.onEvent((e) => {
    const l = leading;
    if (l === undefined) return;
    const pool = e.object.metadata.labels?.[LABEL_POOL_NAME];
    if (pool !== undefined) l.ippool.add(pool);
    if (e.type === 'add' || e.type === 'delete') {
      l.vxnet.add(VXNET_POOL_NAME);
      l.mapping.add('mapping');
    }
    const block = e.object as unknown as IPAMBlock;
    if (block.spec !== undefined && (freeCount(block.spec) === 0 || isBlockEmpty(block.spec))) {
      for (const ns of l.assigner.ownersOf(block.metadata.name)) l.namespace.add(ns);
    }
  });
  informers.namespaces.onEvent((e) => {
    const name = e.object.metadata?.name;
    if (leading !== undefined && name !== undefined) leading.namespace.add(name);
  });
  informers.ipamConfig.onEvent((e) => {
    const l = leading;
    if (l === undefined || e.type === 'resync') return;
    l.mapping.add('mapping');
    enqueueAllNamespaces(l);
  });
  informers.clusterConfig.onEvent((e) => {
    readClusterConfig(e.type === 'delete' ? undefined : e.object);
    leading?.vxnet.add(VXNET_POOL_NAME);
  });

  const namespaceView = (name: string): { uid?: string; terminating: boolean } | undefined => {
    const ns: V1Namespace | undefined = informers.namespaces.get(name);
    if (ns === undefined) return undefined;
    const uid = ns.metadata?.uid;
    return { ...(uid === undefined ? {} : { uid }), terminating: ns.metadata?.deletionTimestamp !== undefined || ns.status?.phase === 'Terminating' };
  };

  const runQueue = (queue: WorkQueue, name: string, workers: number, work: (key: string) => Promise<void | { requeueAfterMs: number }>, signal: AbortSignal): Promise<void> =>
    queue.run(
      workers,
      async (key) => {
        try {
          const r = await work(key);
          reconcileTotal.inc({ controller: name, result: 'success' });
          return r;
        } catch (e) {
          reconcileTotal.inc({ controller: name, result: 'error' });
          if (!signal.aborted) {
            log.warn('reconcile failed; retried with backoff', { controller: name, key, error: errorText(e) });
            noteError(`${name}/${key}`, e);
          }
          throw e;
        }
      },
      signal,
    );

  const periodic = (everyMs: number, what: string, fn: () => Promise<unknown>, signal: AbortSignal): Promise<void> =>
    (async () => {
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, everyMs);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          }, { once: true });
        });
        if (signal.aborted) return;
        try {
          await fn();
        } catch (e) {
          if (!signal.aborted) {
            log.warn(`${what} failed; tried again at the next interval`, { error: errorText(e) });
            noteError(what, e);
          }
        }
      }
    })();

  const lead = async (signal: AbortSignal): Promise<void> => {
    log.info('leading: waiting for caches', { identity: options.identity });
    await Promise.all(all.map((i) => i.synced(signal)));
    readClusterConfig(informers.clusterConfig.get(CLUSTER_CONFIGMAP.name, CLUSTER_CONFIGMAP.namespace));
    const preparer = new VxnetPreparer({ iaas: options.iaas, securityGroup: sgSource, fence, log, jobTimeoutMs: options.jobTimeoutMs ?? 60_000 });
    const vxnetReconciler = new VxNetPoolReconciler({ pools, store, iaas: preparer, events, podAddresses, log, pendingResyncMs: options.pendingResyncMs ?? 3_000 });
    const ippoolReconciler = new IPPoolReconciler({ store, events, log, cooldownMs });
    const assigner = new NamespaceAutoAssigner({
      store,
      events,
      namespace: namespaceView,
      blocks: cachedBlocks,
      vxnetPoolStatus: async () => (await pools.get())?.status,
      setCondition: setVpoolCondition,
      log,
    });
    const validator = new MappingValidator({ store, events, setCondition: setVpoolCondition });
    const ipamGc = new IpamGarbageCollector({ ipam, livePods, podExists, events, log, ...(options.ipamLeakGraceMs === undefined ? {} : { graceMs: options.ipamLeakGraceMs }) });
    const janitor =
      options.nicGcIntervalMs === 0
        ? undefined
        : new NicJanitor({ iaas: options.iaas, clusterTags: clusterConfig.tagIds, fence, log, ...(options.nicLeakGraceMs === undefined ? {} : { graceMs: options.nicLeakGraceMs }), jobTimeoutMs: options.jobTimeoutMs ?? 60_000 });
    const inventory = new NodeInventoryStore({ core, fence, log, inventory: new NodeInventory() });
    await inventory.load();
    const l: Leading = {
      vxnet: new WorkQueue({ name: 'vxnetpool' }),
      ippool: new WorkQueue({ name: 'ippool' }),
      namespace: new WorkQueue({ name: 'namespace' }),
      mapping: new WorkQueue({ name: 'mapping' }),
      assigner,
      ipamGc,
      janitor,
      inventory,
    };
    leading = l;
    l.vxnet.add(VXNET_POOL_NAME);
    l.mapping.add('mapping');
    for (const p of informers.ippools.list()) if (p.metadata.name !== undefined) l.ippool.add(p.metadata.name);
    // The assigner learns the mapping on its first sync; namespaces are queued again when it changes.
    enqueueAllNamespaces(l);
    log.info('leading: reconcilers started', { identity: options.identity });
    try {
      await Promise.all([
        runQueue(l.vxnet, 'vxnetpool', 1, async (key) => {
          const r = await vxnetReconciler.sync(key, signal);
          lastVxNetPool = r;
          return r?.requeueAfterMs === undefined ? undefined : { requeueAfterMs: r.requeueAfterMs };
        }, signal),
        runQueue(l.ippool, 'ippool', options.workers ?? 2, async (key) => {
          const r = await ippoolReconciler.sync(key);
          return r.requeueAfterMs === undefined ? undefined : { requeueAfterMs: r.requeueAfterMs };
        }, signal),
        runQueue(l.namespace, 'namespace', 1, async (key) => {
          const r = await assigner.sync(key);
          return r.requeueAfterMs === undefined ? undefined : { requeueAfterMs: r.requeueAfterMs };
        }, signal),
        runQueue(l.mapping, 'mapping', 1, async () => {
          await validator.sync();
        }, signal),
        periodic(options.ipamGcIntervalMs ?? 5 * 60_000, 'IPAM garbage collection', () => ipamGc.run(), signal),
        janitor === undefined ? Promise.resolve() : periodic(options.nicGcIntervalMs ?? 5 * 60_000, 'NIC cleanup', () => sweepNics(l, signal), signal),
      ]);
    } finally {
      if (leading === l) leading = undefined;
      for (const q of [l.vxnet, l.ippool, l.namespace, l.mapping]) q.shutdown();
      log.info('stopped leading', { identity: options.identity });
    }
  };

  const sweepNics = async (l: Leading, signal?: AbortSignal): Promise<SweepResult | undefined> => {
    if (l.janitor === undefined || !informers.nodes.hasSynced) return undefined;
    await l.inventory.observe(informers.nodes.list() as V1Node[]);
    return l.janitor.sweep(l.inventory.view(), signal);
  };

  metrics.collected('hostnic_controller_leader', 'Whether this replica holds the lease (1) or stands by (0).', () => [[{ identity: options.identity }, elector.isLeader() ? 1 : 0]]);
  metrics.collected('hostnic_controller_cache_synced', 'Whether each informer cache is synced.', () => Object.entries(informers).map(([name, i]) => [{ cache: name }, i.hasSynced ? 1 : 0]));
  metrics.collected('hostnic_controller_watch_errors_total', 'Failed lists or watches per cache (each followed by a retry).', () => Object.entries(informers).map(([name, i]) => [{ cache: name }, i.stats.errors]), 'counter');
  metrics.collected('hostnic_controller_queue_depth', 'Keys waiting per work queue (leader only).', () => {
    const l = leading;
    if (l === undefined) return [];
    return [['vxnetpool', l.vxnet], ['ippool', l.ippool], ['namespace', l.namespace], ['mapping', l.mapping]].map(([n, q]) => [{ queue: n as string }, (q as WorkQueue).length] as const);
  });
  metrics.collected('hostnic_vxnetpool_ready', 'status.ready of VxNetPool v-pool.', () => {
    const vp = informers.vxnetpools.get(VXNET_POOL_NAME);
    return vp === undefined ? [] : [[{}, (vp.status as { ready?: boolean } | undefined)?.ready === true ? 1 : 0]];
  });
  metrics.collected('hostnic_ippool_addresses', 'Addresses of each IPPool by state (from its status).', () => {
    const out: [Record<string, string>, number][] = [];
    for (const p of informers.ippools.list()) {
      const s = p.status as { capacity?: number; allocations?: number; unallocated?: number; reserved?: number } | undefined;
      if (s === undefined) continue;
      for (const [state, v] of [['capacity', s.capacity], ['allocated', s.allocations], ['free', s.unallocated], ['reserved', s.reserved]] as const) {
        if (typeof v === 'number') out.push([{ pool: p.metadata.name ?? '', state }, v]);
      }
    }
    return out;
  });
  metrics.collected('hostnic_ipam_block_free', 'Free addresses per IPAMBlock.', () =>
    cachedBlocks().filter((b) => b.spec !== undefined).map((b) => [{ block: b.metadata.name, pool: b.metadata.labels?.[LABEL_POOL_NAME] ?? '' }, freeCount(b.spec)] as const));
  metrics.collected('hostnic_ipam_gc_released_total', 'Leaked pod addresses released by the controller.', () => [[{}, leading?.ipamGc.totals.released ?? 0]], 'counter');
  metrics.collected('hostnic_nic_gc_deleted_total', 'Leaked NICs deleted by the controller.', () => [[{}, leading?.janitor?.totals.deleted ?? 0]], 'counter');

  let http: HttpServer | undefined;
  const stopping = new AbortController();
  let electorDone: Promise<void> = Promise.resolve();
  try {
    for (const i of all) i.start();
    if (options.metricsPort !== undefined) {
      http = await startHttpServer(options.metricsPort, options.metricsHost, {
        metrics: () => metrics.render(),
        healthy: () => !stopping.signal.aborted,
        ready: synced,
        status: () => status(),
      });
    }
    electorDone = elector.run(stopping.signal, {
      onStartedLeading: (leaderSignal) => lead(leaderSignal).catch((e: unknown) => {
        if (!leaderSignal.aborted) {
          log.error('leader work ended with an error', { error: errorText(e) });
          noteError('leader', e);
        }
      }),
      onStoppedLeading: () => log.warn('lost the lease; stopped writing', { identity: options.identity }),
      onNewLeader: (id) => log.info('leader', { leader: id }),
    });
  } catch (e) {
    await Promise.all(all.map((i) => i.stop()));
    await baseStore.close();
    throw e;
  }

  const status = (): ControllerStatus => {
    const l = leading;
    return {
      identity: options.identity,
      leader: elector.isLeader(),
      synced: Object.fromEntries(Object.entries(informers).map(([n, i]) => [n, i.hasSynced])),
      queues: l === undefined ? {} : { vxnetpool: l.vxnet.length, ippool: l.ippool.length, namespace: l.namespace.length, mapping: l.mapping.length },
      lastVxNetPool,
      lastErrors: [...lastErrors],
    };
  };

  return {
    get port() {
      return http?.port;
    },
    isLeader: () => elector.isLeader(),
    ready: synced,
    status,
    async runCleanup() {
      const l = leading;
      if (l === undefined) return {};
      const ipamResult = await l.ipamGc.run();
      const nics = await sweepNics(l);
      return { ipam: ipamResult, nics };
    },
    async stop() {
      stopping.abort();
      await electorDone;
      await recorder.close();
      await Promise.all(all.map((i) => i.stop()));
      await http?.close();
      await baseStore.close();
    },
  };
}
