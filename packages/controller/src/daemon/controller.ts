/**
 * `hostnic-controller run`: informers on every replica (so a stand-by takes over with warm caches), leader
 * election on a Lease, and — only while leading — the work queues, the reconcilers and the cleanup timers
 * (leader-loops.ts). Every write goes through the leader fence; losing the lease aborts the leader's work at
 * once. Cache events become queue keys in routing.ts.
 */
import type { IaasClient } from '@hostnic/iaas-client';
import type { IPAMBlock, LivePod } from '@hostnic/ipam';
import { DEFAULT_RELEASE_COOLDOWN_MS, Ipam } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import type { KubernetesListCache } from '@hostnic/ipam/kubernetes';
import { Metrics, errorText, silentLogger } from '@hostnic/runtime';
import type { Listening, Logger } from '@hostnic/runtime';
import { configMapsApi, customObjectsApi, isNotFound, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import type { SweepResult } from '../cleanup/index.ts';
import { isFinishedPod, livePodOf } from '../kube/pods.ts';
import type { ConfigMap, Namespace, Pod } from '../kube/objects.ts';
import { CLUSTER_CONFIGMAP, NO_CLUSTER_CONFIG, parseClusterConfig } from '../config/cluster-config.ts';
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { EventSink } from '../event-sink.ts';
import { fenceOf } from '../fence.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import { clusterSecurityGroup } from '../iaas/security-group.ts';
import type { SecurityGroupSource } from '../iaas/security-group.ts';
import { EventRecorder } from '../kube/events.ts';
import { LeaderElector } from '../kube/leader.ts';
import { setCondition } from '../resources/conditions.ts';
import type { ConditionInput } from '../resources/conditions.ts';
import { fencedStore } from '../resources/fenced-store.ts';
import { VxNetPoolClient } from '../resources/vxnetpool.ts';
import type { PodAddress } from '../vxnetpool/recovery.ts';
import { registerControllerMetrics } from './controller-metrics.ts';
import { startHttpServer } from './http.ts';
import { controllerInformers, informerList } from './informers.ts';
import type { ControllerInformers } from './informers.ts';
import { LeaderLoops } from './leader-loops.ts';
import { routeClusterConfig, routeIPAMBlock, routeIPPool, routeIpamConfig, routeNamespace, routeVxNetPool } from './routing.ts';
import pkg from '../../package.json' with { type: 'json' };

export interface ControllerOptions {
  /** The API; the caller closes it after stop(). */
  readonly kube: KubeClient;
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
  /** Keep the node label topology.kubernetes.io/hostmachine this often; absent or 0: off. */
  readonly hostMachineLabelIntervalMs?: number;
  /** 0 turns the NIC janitor off. */
  readonly cooldownMs?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly log?: Logger;
  /** The registry /metrics renders (default a new one); the caller may have added the IaaS families to it. */
  readonly metrics?: Metrics;
  /** IaaS job waits (default 60 s). */
  readonly jobTimeoutMs?: number;
  /** Resync of a pool while IaaS jobs are pending (default 3 s). */
  readonly pendingResyncMs?: number;
  readonly informerBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Sees every write that passed the leader fence (tests). */
  readonly observeWrites?: (operation: string) => void;
  /** Crash tests: called between writes (failpoints.ts, HOSTNIC_FAILPOINT). */
  readonly failpoint?: ControllerFailpoint;
}

export interface RunningController {
  readonly port: number | undefined;
  isLeader(): boolean;
  /** Caches synced. */
  ready(): boolean;
  /** undefined while the elector and (when leading) every leader loop run; else what stopped. */
  unhealthy(): string | undefined;
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

function labelMatch(labels: Readonly<Record<string, string>> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  const [key, value] = selector.split('=');
  return key !== undefined && labels?.[key] === value;
}

/** Lists of IPAM objects come from the informers once they are synced; gets always go to the API. */
function informerListCache(informers: ControllerInformers): KubernetesListCache {
  return {
    list(plural, selector) {
      const inf = plural === 'ippools' ? informers.ippools : plural === 'ipamblocks' ? informers.ipamblocks : undefined;
      if (inf === undefined || !inf.hasSynced) return undefined;
      return inf.list().filter((o) => labelMatch(o.metadata.labels, selector));
    },
  };
}

/** The pods' view the reconcilers read from the pod cache; undefined until it is synced. */
function podViews(informers: ControllerInformers, kube: KubeClient) {
  return {
    podAddresses: (): PodAddress[] | undefined => {
      if (!informers.pods.hasSynced) return undefined;
      return informers.pods
        .list()
        .filter((p) => !isFinishedPod(p) && p.spec?.hostNetwork !== true && p.status?.podIP !== undefined && p.status.podIP !== '')
        .map((p) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', ip: p.status?.podIP ?? '', node: p.spec?.nodeName ?? '' }));
    },
    livePods: (): LivePod[] | undefined => {
      if (!informers.pods.hasSynced) return undefined;
      return informers.pods.list().flatMap((p) => livePodOf(p) ?? []);
    },
    podExists: async (namespace: string, name: string): Promise<boolean> => {
      try {
        return !isFinishedPod(await kube.get<Pod>(resourcePath({ version: 'v1', plural: 'pods', namespace, name })));
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
    namespaceView: (name: string): { uid?: string; terminating: boolean } | undefined => {
      const ns: Namespace | undefined = informers.namespaces.get(name);
      if (ns === undefined) return undefined;
      const uid = ns.metadata?.uid;
      return { ...(uid === undefined ? {} : { uid }), terminating: ns.metadata?.deletionTimestamp !== undefined || ns.status?.phase === 'Terminating' };
    },
  };
}

/** qingcloud.yaml from the flag, else from ConfigMap kube-system/clusterconfig (re-parsed only on a change). */
class ClusterConfigHolder {
  readonly #fixed: ClusterConfig | undefined;
  #current: ClusterConfig;
  #text: string | undefined;
  // Rebuilt only when the cluster config changes, so that its looked-up group is cached between syncs.
  #sg: { readonly config: ClusterConfig; readonly source: SecurityGroupSource } | undefined;

  constructor(fixed: ClusterConfig | undefined) {
    this.#fixed = fixed;
    this.#current = fixed ?? NO_CLUSTER_CONFIG;
  }

  get current(): ClusterConfig {
    return this.#current;
  }

  /** @throws the parse error of an invalid ConfigMap; the last good config stays in use. */
  read(cm: ConfigMap | undefined): void {
    if (this.#fixed !== undefined) return;
    const text = cm?.data?.[CLUSTER_CONFIGMAP.key];
    if (text === this.#text && text !== undefined) return;
    this.#text = text;
    this.#current = text === undefined ? NO_CLUSTER_CONFIG : parseClusterConfig(text, `ConfigMap ${CLUSTER_CONFIGMAP.namespace}/${CLUSTER_CONFIGMAP.name}`);
  }

  securityGroup(iaas: IaasClient): SecurityGroupSource {
    return {
      current: (signal) => {
        if (this.#sg?.config !== this.#current) {
          this.#sg = { config: this.#current, source: clusterSecurityGroup({ iaas, clusterId: this.#current.clusterId, securityGroup: this.#current.securityGroup }) };
        }
        return this.#sg.source.current(signal);
      },
    };
  }
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const log = options.log ?? silentLogger;
  const kube = options.kube;
  const settings = { resyncMs: options.resyncMs ?? 30_000, log, ...(options.informerBackoff === undefined ? {} : { backoff: options.informerBackoff }) };
  const informers = controllerInformers(kube, settings);
  const all = informerList(informers);
  const synced = (): boolean => all.every((i) => i.hasSynced);
  const metrics = options.metrics ?? new Metrics({ component: 'controller', version: pkg.version });

  const lastErrors: { at: string; where: string; error: string }[] = [];
  const noteError = (where: string, e: unknown): void => {
    lastErrors.push({ at: new Date().toISOString(), where, error: errorText(e) });
    if (lastErrors.length > 20) lastErrors.shift();
  };

  const elector = new LeaderElector({
    client: kube,
    namespace: options.lease?.namespace ?? 'kube-system',
    name: options.lease?.name ?? 'hostnic-controller',
    identity: options.identity,
    leaseDurationMs: options.lease?.durationMs ?? 15_000,
    renewDeadlineMs: options.lease?.renewDeadlineMs ?? 10_000,
    retryPeriodMs: options.lease?.retryPeriodMs ?? 2_000,
    log,
  });
  const fence = fenceOf(() => elector.isLeader(), options.observeWrites);
  const recorder = new EventRecorder({ client: kube, identity: options.identity, log });
  // Events are writes too: a stand-by replica stays silent.
  const events: EventSink = { event: (o, t, r, m) => (elector.isLeader() ? recorder.event(o, t, r, m) : undefined) };

  const baseStore = new KubernetesIpamStore({ customObjects: customObjectsApi(kube), configMaps: configMapsApi(kube) }, { listCache: informerListCache(informers) });
  const store = fencedStore(baseStore, fence);
  const pools = new VxNetPoolClient(kube, fence);
  const cooldownMs = options.cooldownMs ?? DEFAULT_RELEASE_COOLDOWN_MS;
  const clusterConfig = new ClusterConfigHolder(options.clusterConfig);
  const readClusterConfig = (cm: ConfigMap | undefined): void => {
    try {
      clusterConfig.read(cm);
    } catch (e) {
      log.error('cluster config is invalid; the last good one stays in use', { error: errorText(e) });
      noteError('clusterconfig', e);
    }
  };
  const cachedBlocks = (): IPAMBlock[] => informers.ipamblocks.list() as unknown as IPAMBlock[];
  const setVxNetPoolCondition = async (condition: ConditionInput): Promise<void> => {
    await pools.updateStatus((status) => ({ ...(status ?? { ready: false }), conditions: setCondition(status?.conditions, condition, new Date()) }));
  };

  const loops = new LeaderLoops({
    identity: options.identity,
    informers,
    iaas: options.iaas,
    securityGroup: clusterConfig.securityGroup(options.iaas),
    clusterConfig: () => clusterConfig.current,
    onSynced: () => readClusterConfig(informers.clusterConfig.get(CLUSTER_CONFIGMAP.name, CLUSTER_CONFIGMAP.namespace)),
    fence,
    pools,
    store,
    ipam: new Ipam(store, { cooldownMs }),
    kube,
    events,
    log,
    metrics,
    cooldownMs,
    ...podViews(informers, kube),
    cachedBlocks,
    setVxNetPoolCondition,
    noteError,
    workers: options.workers,
    ipamGcIntervalMs: options.ipamGcIntervalMs,
    ipamLeakGraceMs: options.ipamLeakGraceMs,
    nicGcIntervalMs: options.nicGcIntervalMs,
    nicLeakGraceMs: options.nicLeakGraceMs,
    hostMachineLabelIntervalMs: options.hostMachineLabelIntervalMs,
    jobTimeoutMs: options.jobTimeoutMs,
    pendingResyncMs: options.pendingResyncMs,
    failpoint: options.failpoint,
  });

  informers.vxnetpools.onEvent((e) => loops.route(routeVxNetPool(e)));
  informers.ippools.onEvent((e) => loops.route(routeIPPool(e)));
  informers.ipamblocks.onEvent((e) => loops.route(routeIPAMBlock(e, (block) => loops.ownersOf(block))));
  informers.namespaces.onEvent((e) => loops.route(routeNamespace(e)));
  informers.ipamConfig.onEvent((e) => loops.route(routeIpamConfig(e)));
  informers.clusterConfig.onEvent((e) => {
    readClusterConfig(e.type === 'delete' ? undefined : e.object);
    loops.route(routeClusterConfig());
  });
  registerControllerMetrics(metrics, { identity: options.identity, isLeader: () => elector.isLeader(), informers, loops, cachedBlocks });

  let http: Listening | undefined;
  const stopping = new AbortController();
  let electorRunning = false;
  let electorDone: Promise<void> = Promise.resolve();
  const unhealthy = (): string | undefined => {
    if (stopping.signal.aborted) return 'stopping';
    if (!electorRunning) return 'the leader election loop has ended';
    if (!loops.alive()) return 'a leader loop has ended';
    return undefined;
  };
  const status = (): ControllerStatus => ({
    identity: options.identity,
    leader: elector.isLeader(),
    synced: Object.fromEntries(Object.entries(informers).map(([n, i]) => [n, i.hasSynced])),
    queues: loops.queueDepths(),
    lastVxNetPool: loops.lastVxNetPool,
    lastErrors: [...lastErrors],
  });
  try {
    for (const i of all) i.start();
    if (options.metricsPort !== undefined) {
      http = await startHttpServer(options.metricsPort, options.metricsHost, { metrics, unhealthy, ready: synced, status });
    }
    electorRunning = true;
    electorDone = elector
      .run(stopping.signal, {
        onStartedLeading: (leaderSignal) => loops.run(leaderSignal).catch((e: unknown) => {
          if (!leaderSignal.aborted) {
            log.error('leader work ended with an error', { error: errorText(e) });
            noteError('leader', e);
          }
        }),
        onStoppedLeading: () => log.warn('lost the lease; stopped writing', { identity: options.identity }),
        onNewLeader: (id) => log.info('leader', { leader: id }),
      })
      .finally(() => {
        electorRunning = false;
      });
  } catch (e) {
    await Promise.all(all.map((i) => i.stop()));
    await baseStore.close();
    throw e;
  }

  return {
    get port() {
      return http?.port;
    },
    isLeader: () => elector.isLeader(),
    ready: synced,
    unhealthy,
    status,
    runCleanup: () => loops.runCleanup(),
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
