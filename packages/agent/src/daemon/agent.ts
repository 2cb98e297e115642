/**
 * The daemon: wires the datastore, the IaaS client, IPAM on Kubernetes, the NIC manager, the pod service and
 * the socket together (the socket is served as soon as the datastore is open and answers "not ready" until
 * the pod cache is synced and the journal and spool are replayed; docs/agent-api.md#readiness).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentPath, lockPathFor } from '@hostnic/protocol';
import { IaasClient } from '@hostnic/iaas-client';
import type { IaasConfig } from '@hostnic/iaas-client';
import { Ipam } from '@hostnic/ipam';
import type { IpamUtilisation } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { CURRENT_NETNS } from '@hostnic/netlink';
import { AgentServer } from '../api/index.ts';
import type { AgentConfig, AgentPaths } from '../config/index.ts';
import { AgentDatastore } from '../datastore/index.ts';
import { failpointFromEnv } from '../failpoints.ts';
import { NicManager } from '../nics/index.ts';
import { abortableSleep } from '../nics/context.ts';
import { installDhcpScript } from '../nics/dhcp-client.ts';
import { PodService, cachedVxnetLookup, isTransient, lookupOrRecorded, replaySpool } from '../pods/index.ts';
import { Metrics, UndoStack, errorText, every, requestFamilies } from '@hostnic/runtime';
import type { Logger, Periodic } from '@hostnic/runtime';
import { KubeClient, configMapsApi, customObjectsApi, loadKubeAccess } from '@hostnic/runtime/kube/http';
import type { LoadedKubeAccess } from '@hostnic/runtime/kube/http';
import { podAnnotationReader, podIpAnnotator, podPresenceReader } from './kube.ts';
import { registerAgentMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { startIdleReleaseTimer } from './idle-release-timer.ts';
import { nodePodCache } from './pod-cache.ts';
import { poolsView } from './pools-view.ts';
import { runLeaseRenewal } from './lease-renewal.ts';
import { importFromGoAgent, keepMangleChains, mangleSettingsFrom } from './upgrade.ts';
import { openIpamClaim } from './ipam-claim.ts';
import { ensureForwarding } from '../host/forwarding.ts';
import { ApiRequestMeter } from './api-requests.ts';
import { requestMetrics } from './request-metrics.ts';
import type { CniVerb } from './request-metrics.ts';
import pkg from '../../package.json' with { type: 'json' };

export interface StartAgentOptions {
  /** Effective configuration (flags already applied). */
  config: AgentConfig;
  paths: AgentPaths;
  instanceId: string;
  nodeName: string;
  iaasConfig: IaasConfig;
  /** --kubeconfig; KUBECONFIG, then in-cluster when absent. */
  kubeconfig?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Metrics bind address (the CLI defaults it to the node's address); undefined = every address. */
  metricsHost?: string | undefined;
  /**
   * How long `close()` lets requests in flight finish before aborting them (an aborted ADD rolls back);
   * default `agent.stopDeadlineSec` of hostnic.json.
   */
  stopDeadlineMs?: number | undefined;
}

export interface Agent {
  readonly server: AgentServer;
  readonly metricsPort: number | undefined;
  /** Resolves when the pod cache is synced and the journal and spool are replayed, and CNI verbs are served. */
  readonly ready: Promise<void>;
  /**
   * Refuses new ADDs (code 11: the runtime retries them on the next agent), lets requests in flight finish
   * until the stop deadline, aborts the rest (each ADD rolls back), then stops the timers and closes the
   * datastore. Never touches NICs, bridges, rules or recorded pods.
   */
  close(): Promise<void>;
}

/** The kernel's boot id; `HOSTNIC_BOOT_ID_FILE` moves it (sandbox nodes share one kernel). */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

export class AgentStartError extends Error {
  override name = 'AgentStartError';
}

/** Whatever a start opened, closed newest first on a failed start and on close. */
async function closeAll(closers: UndoStack, log: Logger): Promise<void> {
  for (const f of await closers.unwind()) log.warn('close failed', { what: f.what, error: errorText(f.error) });
}

const VERB_OF_PATH: Readonly<Record<string, CniVerb>> = {
  [AgentPath.add]: 'add',
  [AgentPath.del]: 'del',
  [AgentPath.check]: 'check',
  [AgentPath.gc]: 'gc',
};

export async function startAgent(o: StartAgentOptions): Promise<Agent> {
  const closers = new UndoStack();
  try {
    return await start(o, closers);
  } catch (e) {
    await closeAll(closers, o.log);
    throw e;
  }
}

async function start(o: StartAgentOptions, closers: UndoStack): Promise<Agent> {
  const { config, paths, log } = o;
  const store = AgentDatastore.open(paths.stateDir, {
    onProblem: (p) => log.warn('datastore value unreadable', { database: p.database, key: p.key, reason: p.reason }),
  });
  closers.push('datastore', () => store.close());
  // Before anything reads the datastore: a node the Go agent ran keeps its NICs' tables, bridges and pods.
  await importFromGoAgent(paths.stateDir, store, CURRENT_NETNS, log).catch((e: unknown) => {
    log.error('importing the Go agent\'s records failed; its NICs are set up anew by the reconciler', { error: errorText(e) });
  });

  // udhcpc reports VLAN bridge leases through it; the agent applies them (nics/dhcp-client.ts).
  const dhcpScript = join(paths.stateDir, 'dhcp', 'udhcpc-report.sh');
  await installDhcpScript(dhcpScript);

  const bootIdFile = o.env['HOSTNIC_BOOT_ID_FILE'] ?? BOOT_ID_FILE;
  const bootId = await readFile(bootIdFile, 'utf8').then(
    (text) => text.trim() || undefined,
    (e: unknown) => {
      log.warn('boot id unreadable; a node reboot will not be noticed', { file: bootIdFile, error: errorText(e) });
      return undefined;
    },
  );

  let failpoint;
  try {
    failpoint = failpointFromEnv(o.env);
  } catch (e) {
    throw new AgentStartError(errorText(e), { cause: e });
  }

  const metrics = new Metrics({ component: 'agent', version: pkg.version, labels: { node_name: o.nodeName } });
  const iaasRequests = requestFamilies(metrics, 'hostnic_iaas', 'QingCloud API');
  const iaas = new IaasClient({
    config: o.iaasConfig,
    onRequest: (e) => iaasRequests.observe(e.action, e.outcome, e.durationMs / 1000),
  });
  closers.push('iaas client', () => iaas.close());
  const iaasAt = `${o.iaasConfig.protocol}://${o.iaasConfig.host}:${o.iaasConfig.port}`;
  try {
    const owner = await iaas.whoAmI();
    log.info('iaas credentials checked', { zone: o.iaasConfig.zone, owner: String(owner) });
  } catch (e) {
    // Refused credentials stop the agent; an IaaS that cannot answer now does not: warm ADDs need no IaaS call.
    if (!isTransient(e)) {
      throw new AgentStartError(`QingCloud start-up check (DescribeAccessKeys at ${iaasAt}) failed: ${errorText(e)}`, { cause: e });
    }
    log.warn('QingCloud API unreachable at start; serving pods whose NIC is attached, NIC work retried at each sync', { iaas: iaasAt, error: errorText(e) });
  }

  let access: LoadedKubeAccess;
  try {
    access = await loadKubeAccess(o.kubeconfig, o.env);
  } catch (e) {
    throw new AgentStartError(`Kubernetes client configuration: ${errorText(e)}`, { cause: e });
  }
  const kube = new KubeClient(access.access, { rateLimit: { qps: config.agent.k8sApiQps, burst: config.agent.k8sApiBurst }, userAgent: 'hostnic-agent' });
  closers.push('kubernetes client', () => kube.close());
  log.info('kubernetes client configured', { source: access.source, server: kube.server });
  const ipam = new Ipam(new KubernetesIpamStore({ customObjects: customObjectsApi(kube), configMaps: configMapsApi(kube) }), {
    cooldownMs: config.agent.releaseCooldownSec * 1000,
    onMappingProblems: (r) => {
      if (r.problems.length === 0) log.info('hostnic-ipam-config is valid again');
      else log.warn('hostnic-ipam-config has problems: the last good mapping stays in force for what they touch', {
        problems: r.problems.map((p) => p.message),
        refused: [...r.refused].map(([key, v]) => ({ key, reason: v.reason, keptLastGood: v.keptLastGood })),
      });
    },
  });

  // Each ADD and DEL counts the apiserver requests it makes itself (logged with its steps; goal 0 when warm).
  const apiMeter = new ApiRequestMeter(kube.server);
  closers.push('api request meter', () => Promise.resolve(apiMeter.close()));
  const opened = await openIpamClaim({ ipam, stateDir: paths.stateDir, node: o.nodeName, agent: config.agent, log, detached: (fn) => apiMeter.detached(fn) });
  if (opened !== undefined) closers.push('ipam claim', () => opened.close());
  const claim = opened?.claim;

  const nics = new NicManager({
    iaas,
    store,
    instanceId: o.instanceId,
    netns: CURRENT_NETNS,
    routeTableBase: config.pool.routeTableBase,
    maxNic: config.pool.maxNic,
    tagId: config.pool.tag,
    attachTimeoutMs: config.agent.attachTimeoutSec * 1000,
    linkTimeoutMs: config.agent.linkTimeoutSec * 1000,
    jobPoll: { maxIntervalMs: config.agent.jobPollIntervalSec * 1000 },
    orphanGraceMs: config.agent.orphanNicGraceSec * 1000,
    log,
    failpoint,
    dhcp: { scriptPath: dhcpScript },
  });
  const vxnetLookup = lookupOrRecorded(cachedVxnetLookup(iaas), (vxnetId) => store.nicForVxnet(vxnetId));
  const requests = requestMetrics(metrics);
  const podCache = nodePodCache(kube, o.nodeName, log);
  podCache.start();
  closers.push('pod cache', () => podCache.stop());
  const pods = new PodService({
    ipam: claim ?? ipam,
    nics,
    store,
    vxnets: vxnetLookup,
    podAnnotations: podAnnotationReader(kube, podCache),
    // Exactly `calico`, as the original compares it; config validation warns about near misses.
    podAnnotator: config.server.networkPolicy === 'calico' ? podIpAnnotator(kube) : undefined,
    nodeName: o.nodeName,
    onFailure: (kind) => requests.failed(kind),
    ebtablesLockPath: lockPathFor(paths.socket),
    logger: log,
    failpoint,
    bootId,
    routeTableBase: config.pool.routeTableBase,
    apiMeter,
  });

  // Aborted by close(): timers and operator requests stop their NIC work.
  const stopping = new AbortController();
  // Refreshed on the sync timer, so that a scrape never waits for (or loads) the API server.
  let ipamUsage: IpamUtilisation | undefined;
  // Assigned with the warm pool below; read by /v1/pools.
  let warmVxnets = new Set<string>();
  const server = new AgentServer({
    socketPath: paths.socket,
    pods,
    snapshot: () => store.snapshot(),
    pools: async () => poolsView(await ipam.utilisation(), store.snapshot(), warmVxnets),
    operator: {
      checkNode: (fix) => pods.checkNode(fix),
      clearNics: (dryRun) => nics.clearIdleNics({ dryRun, keep: (vxnetId) => warmVxnets.has(vxnetId), signal: stopping.signal }),
    },
    logger: log,
    onRequest: (path, ok, seconds) => {
      const verb = VERB_OF_PATH[path];
      if (verb !== undefined) requests.observe(verb, ok ? 'ok' : 'error', seconds);
    },
  });
  await server.listen();
  closers.push('socket', () => server.close());
  log.info('serving the CNI socket (not ready yet)', { socket: paths.socket });

  let ready = false;
  registerAgentMetrics(metrics, { snapshot: () => store.snapshot(), ready: () => ready, ipamUsage: () => ipamUsage, claimCounts: () => claim?.counts() });
  let metricsPort: number | undefined;
  try {
    const m = await startMetricsServer(config.agent.metricsPort, o.metricsHost, {
      metrics,
      datastoreProblem: () => (store.closed ? 'the datastore is closed' : undefined),
      readiness: () => server.status(),
    });
    metricsPort = m.port;
    closers.push('metrics', () => m.close());
    log.info('serving metrics', { host: o.metricsHost ?? 'all addresses', port: m.port });
  } catch (e) {
    // As the original: no metrics is not a reason to leave the node without networking.
    log.error('metrics endpoint not started', { port: config.agent.metricsPort, error: errorText(e) });
  }

  const timers: Pick<Periodic, 'stop'>[] = [];
  closers.push('timers', async () => {
    stopping.abort(new Error('hostnic-agent is stopping'));
    await Promise.all(timers.map((t) => t.stop()));
  });

  const reconcile = async (): Promise<void> => {
    const summary = await nics.reconcile(stopping.signal);
    log.info('reconcile done', { summary });
  };
  const replay = async (): Promise<void> => {
    const r = await replaySpool(paths.spoolDir, pods, { failpoint });
    if (r.released.length + r.bad.length + r.failed.length > 0) log.info('spool replayed', { ...r });
  };
  // The warm pool: the vxnets of every enabled IPPool (as last listed), each with its NIC kept attached.
  const warmUp = async (): Promise<void> => {
    if (config.agent.warmNicsPerVxnet < 1) return;
    const pools = await ipam.store.listPools();
    warmVxnets = new Set(pools.filter((p) => p.object.spec.disabled !== true && (p.object.spec.type === 'local' || p.object.spec.type === 'vlan')).map((p) => p.object.metadata.name));
    const have = new Set((await store.listNics()).filter((n) => n.phase === 'Succeeded').map((n) => n.vxnet.vxnetId));
    for (const vxnetId of warmVxnets) {
      if (have.has(vxnetId) || stopping.signal.aborted) continue;
      try {
        const nic = await nics.ensureNic(await vxnetLookup(vxnetId, stopping.signal), stopping.signal);
        log.info('warm NIC ready', { vxnet: vxnetId, nicId: nic.nicId, link: nic.linkName });
      } catch (e) {
        if (!stopping.signal.aborted) log.warn('warm NIC not made; retried at the next sync', { vxnet: vxnetId, error: errorText(e) });
      }
    }
  };
  const freePeriodMs = config.pool.freePeriod * 60_000;
  const idleMs = Math.max(freePeriodMs, config.agent.releaseCooldownSec * 1000);
  const releaseIdle = async (): Promise<number | undefined> => {
    const { results, nextDueAt } = await nics.idleRelease(idleMs, stopping.signal, (vxnetId) => warmVxnets.has(vxnetId));
    if (results.length > 0) log.info('idle NICs released', { released: results });
    return nextDueAt;
  };

  const presence = podPresenceReader(kube, o.nodeName, podCache);
  const presenceFresh = podPresenceReader(kube, o.nodeName);
  const releaseGone = async (): Promise<void> => {
    const released = await pods.releaseGonePods(presence, { graceMs: config.agent.orphanPodGraceSec * 1000, confirm: presenceFresh });
    if (released.length > 0) log.info('attachments of gone pods released', { released });
  };

  // Readiness needs what a pod operation needs on this node (the datastore, the pod cache, a closed journal),
  // not the IaaS: the NIC reconcile runs at once after, and a cold ADD fails with code 11 while the IaaS is down.
  const replayJournal = async (): Promise<void> => {
    const r = await pods.replayJournal();
    if (r.failed.length > 0) throw new Error(`pod journal replay left ${r.failed.length} open: ${r.failed.map((f) => `${f.attachment}: ${f.error}`).join('; ')}`);
  };
  // A new boot id: the kernel state of the pods wired before is gone (the reconcile sets NICs and tables up
  // again). Their records, ARP replies and IPAM handles go once the runtime had the grace to DEL them; the new
  // boot id is stored only then, so a restart within the grace still finds them.
  const afterReboot = async (): Promise<void> => {
    if (bootId === undefined) return;
    const previous = await store.bootId();
    if (previous !== undefined && previous !== bootId) {
      log.warn('the node rebooted since the last start; pods of the previous boot are released after the grace', { previous, bootId, graceSec: config.agent.orphanPodGraceSec });
      await abortableSleep(config.agent.orphanPodGraceSec * 1000, stopping.signal);
      while ((await pods.releaseOtherBoots(bootId)).failed.length > 0) await abortableSleep(config.pool.sync * 1000, stopping.signal);
    }
    await store.setBootId(bootId);
  };
  const keepForwarding = async (): Promise<void> => {
    const written = await ensureForwarding(CURRENT_NETNS);
    if (written.length > 0) log.info('IPv4 forwarding made whole', { written });
  };
  const startUp = async (): Promise<void> => {
    const retryMs = config.pool.sync * 1000;
    const slowCache = setTimeout(() => log.warn('pod cache not synced yet; not ready', { waitedSec: config.agent.cacheSyncTimeoutSec }), config.agent.cacheSyncTimeoutSec * 1000);
    await Promise.race([podCache.synced(stopping.signal).catch(() => undefined), new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }))]).finally(() => clearTimeout(slowCache));
    // Said, so that a start that is slow to become ready shows which part it is in.
    log.info('pod cache synced; replaying the journal and the spool');
    for (;;) {
      if (stopping.signal.aborted) return;
      try {
        await replayJournal();
        await replay();
        break;
      } catch (e) {
        server.setReady(false, `start-up journal replay failed, retrying: ${errorText(e)}`);
        log.error('start-up journal replay failed; retrying', { error: errorText(e), retryInMs: retryMs });
        await abortableSleep(retryMs, stopping.signal).catch(() => undefined);
      }
    }
    if (stopping.signal.aborted) return;
    // Before the first ADD: one writer turns forwarding on everywhere (parallel ADDs racing on ip_forward can
    // leave the bridges and veths without it; see host/forwarding.ts).
    await keepForwarding().catch((e: unknown) => log.error('making IPv4 forwarding whole failed; retried at the next sync', { error: errorText(e) }));
    // Failures are logged by the claim; until a reconcile succeeds, ADDs allocate through the IPAM objects.
    await claim?.sync({ reconcile: true });
    ready = true;
    server.setReady(true);
    log.info('all setup done, agent ready', { node: o.nodeName, instanceId: o.instanceId });
    const onError = (what: string) => (e: unknown) => {
      if (!stopping.signal.aborted) log.error(`${what} failed`, { error: errorText(e) });
    };
    const afterBoot = afterReboot().catch(onError('release of the pods of a previous boot'));
    timers.push({ stop: () => afterBoot });
    const sweep = async (): Promise<void> => {
      await pods.sweepNode();
    };
    if (claim !== undefined) timers.push(every(config.pool.sync * 1000, () => claim.sync({ reconcile: true }).then(() => undefined), onError('ipam claim sync')));
    const firstSweep = sweep().catch(onError('node sweep'));
    timers.push({ stop: () => firstSweep });
    timers.push(every(config.pool.sync * 1000, sweep, onError('node sweep')));
    const firstReconcile = reconcile().catch(onError('start-up reconcile'));
    timers.push({ stop: () => firstReconcile });
    timers.push(every(config.pool.sync * 1000, reconcile, onError('periodic reconcile')));
    timers.push(
      startIdleReleaseTimer({
        run: releaseIdle,
        periodMs: idleMs,
        // A NIC the previous run left idle may be due at once; a second keeps a skewed clock from spinning.
        firstDelayMs: Math.min(idleMs, config.pool.sync * 1000),
        minDelayMs: Math.min(idleMs, 1000),
        now: () => Date.now(),
        onError: onError('idle NIC release'),
      }),
    );
    const leases = runLeaseRenewal(nics, log, stopping.signal);
    timers.push({ stop: () => leases });
    timers.push(every(config.agent.spoolReplayIntervalSec * 1000, replay, onError('spool replay')));
    timers.push(every(config.pool.sync * 1000, releaseGone, onError('release of gone pods')));
    timers.push(every(config.pool.sync * 1000, keepForwarding, onError('IPv4 forwarding')));
    const mangle = await mangleSettingsFrom(paths.cniConfigSource, log);
    if (mangle !== undefined) {
      const keep = (): Promise<void> => keepMangleChains(mangle, CURRENT_NETNS, log);
      const firstMangle = keep().catch(onError('mangle chains'));
      timers.push({ stop: () => firstMangle });
      timers.push(every(config.pool.sync * 1000, keep, onError('mangle chains')));
    }
    const refreshUsage = async (): Promise<void> => {
      ipamUsage = await ipam.utilisation();
    };
    const firstUsage = refreshUsage().catch(onError('IPAM figures for metrics'));
    timers.push({ stop: () => firstUsage });
    timers.push(every(config.pool.sync * 1000, refreshUsage, onError('IPAM figures for metrics')));
    if (config.agent.warmNicsPerVxnet > 0) {
      // At once (so the first pods find their NIC), then with every sync (new pools, lost NICs).
      const first = warmUp().catch(onError('warm pool'));
      timers.push({ stop: () => first });
      timers.push(every(config.pool.sync * 1000, warmUp, onError('warm pool')));
    }
  };
  const readyPromise = startUp();

  let closing: Promise<void> | undefined;
  return {
    server,
    metricsPort,
    ready: readyPromise,
    close: () => {
      closing ??= (async () => {
        log.info('stopping');
        const drained = await server.drain(o.stopDeadlineMs ?? config.agent.stopDeadlineSec * 1000);
        if (drained.aborted > 0) log.warn('requests in flight aborted at the stop deadline (rolled back)', drained);
        server.setReady(false, 'hostnic-agent is stopping');
        await closeAll(closers, log);
        log.info('stopped');
      })();
      return closing;
    },
  };
}
