/**
 * What the NIC manager's modules share: the options as given, resolved once, plus the locks. The modules
 * (create, repair, release, reconcile) are functions of this context so each stays small and testable.
 */

import type { IaasClient } from '@hostnic/iaas-client';
import type { Netns } from '@hostnic/netlink';
import { noFailpoint } from '../failpoints.ts';
import type { Failpoint } from '../failpoints.ts';
import type { NicStore } from '../types.ts';
import { KeyedLock, silentLogger, sleep } from '@hostnic/runtime';

export interface NicClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Structured log lines; the agent's logger fits, tests pass a silent or collecting one. */
export interface NicLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface NicManagerOptions {
  iaas: IaasClient;
  store: NicStore;
  /** This node's instance id (trimmed). */
  instanceId: string;
  /** The node's namespace; in production the current one. */
  netns: Netns;
  /** First policy routing table, default 260 [compat]. */
  routeTableBase?: number;
  /** Records (failed ones included) this node may hold, default 63 [compat]. */
  maxNic?: number;
  /** IaaS name of our NICs, default `hostnic_<instanceId>` [compat]. */
  nicName?: string;
  /** When set, every created NIC is tagged with it (AttachTags, result ignored as in the original). */
  tagId?: string;
  /** Bound on an attach or detach job, default 120 s (the original waited forever on attach). */
  attachTimeoutMs?: number;
  /** Bound on the wait for the attached NIC's link to appear, default 60 s. */
  linkTimeoutMs?: number;
  /** Poll interval of the link wait, default 200 ms (the original: 1 s). */
  linkPollMs?: number;
  /** Polling of jobs (waitJob), defaults of the client (500 ms growing to 5 s). */
  jobPoll?: { initialIntervalMs?: number; maxIntervalMs?: number };
  /** Detached NICs of ours without a record are deleted once seen for this long, default 10 min. */
  orphanGraceMs?: number;
  /**
   * A NIC whose host setup was verified this recently is not verified again by ensureNic, default 3 s: a burst
   * of pod starts on one vxnet checks the host once, not once per pod (the periodic repair still runs).
   */
  hostCheckWindowMs?: number;
  clock?: NicClock;
  sleep?: Sleep;
  log?: NicLogger;
  /** Reached at each named step of the NIC work (crash tests stop the agent there). */
  failpoint?: Failpoint;
  /** DHCP for VLAN bridges (udhcpc and our script); without it a VLAN bridge gets no address. */
  dhcp?: NicDhcp;
}

export interface NicDhcp {
  /** Where installDhcpScript put the lease-reporting script. */
  readonly scriptPath: string;
  /** udhcpc's command, default `busybox udhcpc`. */
  readonly command?: readonly string[] | undefined;
}

export interface NicContext {
  readonly iaas: IaasClient;
  readonly store: NicStore;
  readonly instanceId: string;
  readonly netns: Netns;
  readonly routeTableBase: number;
  readonly maxNic: number;
  readonly nicName: string;
  readonly tagId: string | undefined;
  readonly attachTimeoutMs: number;
  readonly linkTimeoutMs: number;
  readonly linkPollMs: number;
  readonly jobPoll: { initialIntervalMs?: number; maxIntervalMs?: number };
  readonly orphanGraceMs: number;
  readonly clock: NicClock;
  readonly sleep: Sleep;
  readonly log: NicLogger;
  readonly failpoint: Failpoint;
  readonly dhcp: NicDhcp | undefined;
  /** Per vxnet id. */
  readonly vxnetLocks: KeyedLock;
  /**
   * NIC id → how many times a repair changed its host state. A changed host may mean a re-created br_N, which
   * drops its proxy entries; the repair puts back those of recorded pods, and an ADD that was wiring a pod onto
   * the NIC meanwhile (not recorded yet) sees the count move and puts its own back.
   */
  readonly hostChanges: Map<string, number>;
  /** One key: table allocation and the record write that claims the table happen together. */
  readonly tableLock: KeyedLock;
}

export const NIC_DEFAULTS = {
  routeTableBase: 260,
  maxNic: 63,
  attachTimeoutMs: 120_000,
  linkTimeoutMs: 60_000,
  linkPollMs: 200,
  orphanGraceMs: 600_000,
} as const;

export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  // The NIC waits treat an abort as a failure of the wait, so it rejects with the signal's reason.
  if (!(await sleep(ms, signal))) throw signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

export function resolveContext(options: NicManagerOptions): NicContext {
  const instanceId = options.instanceId.trim();
  if (instanceId === '') throw new Error('NicManager: instanceId is empty');
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new Error(`NicManager: ${name} must be a non-negative number, got ${v}`);
    return v;
  };
  const maxNic = positive('maxNic', options.maxNic, NIC_DEFAULTS.maxNic);
  if (maxNic > 63) throw new Error(`NicManager: maxNic ${maxNic} is above 63`);
  return {
    iaas: options.iaas,
    store: options.store,
    instanceId,
    netns: options.netns,
    routeTableBase: positive('routeTableBase', options.routeTableBase, NIC_DEFAULTS.routeTableBase),
    maxNic,
    nicName: options.nicName ?? `hostnic_${instanceId}`,
    tagId: options.tagId === '' ? undefined : options.tagId,
    attachTimeoutMs: positive('attachTimeoutMs', options.attachTimeoutMs, NIC_DEFAULTS.attachTimeoutMs),
    linkTimeoutMs: positive('linkTimeoutMs', options.linkTimeoutMs, NIC_DEFAULTS.linkTimeoutMs),
    linkPollMs: positive('linkPollMs', options.linkPollMs, NIC_DEFAULTS.linkPollMs),
    jobPoll: options.jobPoll ?? {},
    orphanGraceMs: positive('orphanGraceMs', options.orphanGraceMs, NIC_DEFAULTS.orphanGraceMs),
    clock: options.clock ?? { now: () => Date.now() },
    sleep: options.sleep ?? abortableSleep,
    log: options.log ?? silentLogger,
    failpoint: options.failpoint ?? noFailpoint,
    dhcp: options.dhcp,
    vxnetLocks: new KeyedLock(),
    hostChanges: new Map(),
    tableLock: new KeyedLock(),
  };
}
