/**
 * The CNI verbs on the agent side (docs/pod-path.md):
 * ADD allocates, makes sure of the NIC, wires the pod and records it, undoing every step on failure;
 * DEL, CHECK and GC work from the record and are idempotent.
 */

import type {
  AddRequest,
  AddResponse,
  Attachment,
  CheckRequest,
  DelRequest,
  GcRequest,
  GcResponse,
  PluginConfig,
} from '@hostnic/protocol';
import { podHandleId } from '@hostnic/ipam';
import type { AllocateRequest, Allocation } from '@hostnic/ipam';
import {
  CURRENT_NETNS,
  NIC_RULE_PRIORITY,
  applyBatchOrThrow,
  checkPod,
  countArpReply,
  deleteLink,
  ensureProxyNeighbours,
  hostVethName,
  listEbtablesChain,
  listProxyNeighbours,
  netnsAtPath,
  podRule,
  readSnapshot,
  removeArpReplies,
  removeArpReply,
  removeProxyNeighbour,
  removeRule,
  routeFlushTableOp,
  ruleDelOp,
  unwirePod,
  wirePod,
} from '@hostnic/netlink';
import type { Netns, PodWiring } from '@hostnic/netlink';
import { KeyedLock, SharedExclusiveGate, UndoStack, describeUndoFailures } from '@hostnic/runtime';
import { noFailpoint } from '../failpoints.ts';
import type { Failpoint } from '../failpoints.ts';
import type { NicLease } from '../nics/index.ts';
import type { Intent, NicRecord, PodRecord, VxnetInfo } from '../types.ts';
import { fixedIpsOf } from './annotations.ts';
import { GonePodTracker, goneReason } from './gone.ts';
import { addFailureKind, delFailureKind } from './failures.ts';
import type { IpamFailure } from './failures.ts';
import type { GoneReason, PodPresence } from './gone.ts';
import { CniCode, NicUnavailableError, PodError, messageOf, stepError } from './errors.ts';
import { attachmentOfJournal, joinIps, journaledPod, journaledPods } from './journal.ts';
import type { JournaledPod, PodIntentKind } from './journal.ts';
import { arpOfRecord, attachmentKey, ipOfResult, proxyArpDevOf, resultOfRecord } from './records.ts';
import { SweepLooks, orphanId, orphansOf } from './sweep.ts';
import type { KernelView, Orphan, OwnedView, SweepShape } from './sweep.ts';
import type { PodServiceRecord } from './records.ts';
import type { VxnetLookup } from './vxnets.ts';

/** The allocator as the service uses it (`Ipam` of @hostnic/ipam). */
export interface PodIpam {
  allocate(request: AllocateRequest): Promise<Allocation>;
  /** Resolves to the addresses the handle held (none when it was unknown). */
  release(handleId: string): Promise<readonly { readonly address: string }[]>;
}

/** The NIC manager as the service uses it: the vxnet's NIC, held until the pod is recorded or rolled back. */
export interface PodNics {
  leaseNic(vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicLease>;
  /** Told after a pod's record is deleted, so the NIC's idle age starts at its last pod's DEL; never throws. */
  podLeft?(nicId: string): Promise<void>;
}

/** The datastore as the service uses it (`AgentDatastore`). */
export interface PodStore {
  getPod(containerId: string, ifName: string): Promise<PodRecord | undefined>;
  /** `finishing`: intents finished in the record's own transaction. */
  putPod(pod: PodRecord, finishing?: readonly string[]): Promise<void>;
  /** `finishing`: intents finished in the same transaction as the removal. */
  deletePod(containerId: string, ifName: string, finishing?: readonly string[]): Promise<PodRecord | undefined>;
  listPods(): Promise<PodRecord[]>;
  beginIntent(kind: PodIntentKind, data: Intent['data']): Promise<{ id: string }>;
  updateIntent(id: string, data: Intent['data']): Promise<unknown>;
  finishIntent(id: string): Promise<void>;
  listIntents(): Promise<Intent[]>;
  listNics(): Promise<NicRecord[]>;
  /** Route tables bound to a NIC record or reserved for one (the sweep leaves them alone). */
  listRouteTables(): Promise<readonly { table: number }[]>;
}

/** The pod's annotations (the Kubernetes read); a rejection means the API server could not be asked. */
export type PodAnnotations = (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined>;

/**
 * Publishes the pod IP on the pod (the Calico annotations). A rejection fails the
 * ADD; a PodError with code 11 marks an API server condition that goes away by itself.
 */
export type PodAnnotator = (namespace: string, name: string, ip: string) => Promise<void>;

/**
 * Counts the apiserver requests each ADD and DEL makes itself (daemon/api-requests.ts); the count goes into the
 * operation's log line.
 */
export interface PodApiMeter {
  measure<T>(fn: () => Promise<T>): Promise<T>;
  current(): { readonly reads: number; readonly writes: number } | undefined;
}

export interface PodLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface PodServiceOptions {
  ipam: PodIpam;
  nics: PodNics;
  store: PodStore;
  vxnets: VxnetLookup;
  podAnnotations: PodAnnotations;
  /** Absent unless hostnic.json `server.networkPolicy` is `calico`: then every ADD publishes the pod IP. */
  podAnnotator?: PodAnnotator | undefined;
  /** This node's name (stored with the allocation). */
  nodeName: string;
  /** The node's namespace (default: the agent's own). */
  hostNetns?: Netns;
  /** ebtables lock file (default: netlink's /var/run/hostnic/hostnic.lock). */
  ebtablesLockPath?: string;
  /** The ebtables program (default: `ebtables` in PATH); tests point it at one that fails. */
  ebtablesProgram?: string | undefined;
  logger?: PodLogger;
  now?: () => Date;
  /** Told about each failed ADD or DEL, classified as the original's failure gauges count them. */
  onFailure?: (kind: IpamFailure) => void;
  /** Reached at each named step of ADD and DEL (crash tests stop the agent there). */
  failpoint?: Failpoint;
  /**
   * Orders the sweep's removals against ADDs journaling what they will create (one is made per service
   * unless given; tests pass their own to watch it).
   */
  ownership?: SharedExclusiveGate;
  /** Counts each ADD's and DEL's own apiserver requests, logged as `api` with the steps. */
  apiMeter?: PodApiMeter | undefined;
  /** The kernel's boot id, written into every record (see releaseOtherBoots). */
  bootId?: string | undefined;
  /** hostnic.json pool.routeTableBase: the sweep considers tables and `br_<N>` bridges from here up (default 260). */
  routeTableBase?: number | undefined;
}

const silent: PodLogger = { info: () => undefined, warn: () => undefined };

/** DEL needs only the attachment's key: the CNI spec wants it to succeed whatever CNI_ARGS hold. */
function checkAttachment(a: Attachment | undefined, verb: 'add' | 'del' | 'check'): Attachment {
  if (!a || typeof a !== 'object') throw new PodError('validate', CniCode.invalidEnv, 'request has no attachment');
  const fields: (keyof Attachment)[] = ['containerId', 'ifName'];
  if (verb !== 'del') fields.push('podNamespace', 'podName', 'infraContainerId', 'netns');
  for (const f of fields) {
    if (typeof a[f] !== 'string' || a[f] === '') throw new PodError('validate', CniCode.invalidEnv, `attachment.${f} is missing`);
  }
  return a;
}

function present(v: string | undefined): v is string {
  return typeof v === 'string' && v !== '';
}

/** The handle of a DEL's attachment, when CNI_ARGS named the pod. */
function handleOfIdentity(a: Attachment): string | undefined {
  return present(a.podNamespace) && present(a.podName) ? handleOf(a) : undefined;
}

/** What a DEL knows about the attachment besides its record and the journal. */
interface KnownPod {
  readonly ip?: string | undefined;
}

function handleOf(a: Attachment): string {
  try {
    return podHandleId(a.podNamespace, a.podName, a.infraContainerId || a.containerId).id;
  } catch (e) {
    throw new PodError('validate', CniCode.invalidEnv, `bad pod identity: ${messageOf(e)}`, { cause: e });
  }
}

type StepName = Parameters<typeof stepError>[0];

/** Runs `fn` and adds its milliseconds to `timings[label]` (the per-step figures of the ADD and DEL logs). */
async function timed<T>(timings: Record<string, number>, label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings[label] = (timings[label] ?? 0) + Math.round(performance.now() - started);
  }
}

/** A presence lookup whose failure counts as "cannot tell", never as gone. */
async function askPresence(lookup: (namespace: string, name: string) => Promise<PodPresence>, namespace: string, name: string): Promise<PodPresence> {
  try {
    return await lookup(namespace, name);
  } catch (e) {
    return { kind: 'unknown', reason: messageOf(e) };
  }
}

export class PodService {
  readonly #o: PodServiceOptions;
  readonly #locks = new KeyedLock();
  readonly #log: PodLogger;
  readonly #hostNetns: Netns;
  readonly #gone = new GonePodTracker();
  readonly #failpoint: Failpoint;
  readonly #sweepLooks = new SweepLooks();
  readonly #ownership: SharedExclusiveGate;

  constructor(options: PodServiceOptions) {
    this.#o = options;
    this.#ownership = options.ownership ?? new SharedExclusiveGate();
    this.#log = options.logger ?? silent;
    this.#hostNetns = options.hostNetns ?? CURRENT_NETNS;
    this.#failpoint = options.failpoint ?? noFailpoint;
  }

  #ebtables(): { netns: Netns; lockPath?: string; ebtables?: string } {
    return {
      netns: this.#hostNetns,
      ...(this.#o.ebtablesLockPath === undefined ? {} : { lockPath: this.#o.ebtablesLockPath }),
      ...(this.#o.ebtablesProgram === undefined ? {} : { ebtables: this.#o.ebtablesProgram }),
    };
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** Runs a pod operation under its own API request count, when there is a meter. */
  #measured<T>(fn: () => Promise<T>): Promise<T> {
    return this.#o.apiMeter === undefined ? fn() : this.#o.apiMeter.measure(fn);
  }

  add(request: AddRequest, signal?: AbortSignal): Promise<AddResponse> {
    const a = checkAttachment(request.attachment, 'add');
    return this.#measured(() => this.#locks.run(attachmentKey(a.containerId, a.ifName), () => this.#add(a, request.config, signal))).catch((e: unknown) => {
      if (e instanceof PodError) {
        const kind = addFailureKind(e.step, e.cause);
        if (kind !== undefined) this.#o.onFailure?.(kind);
      }
      throw e;
    });
  }

  async #add(a: Attachment, config: PluginConfig, signal?: AbortSignal): Promise<AddResponse> {
    const store = this.#o.store;
    const existing = await store.getPod(a.containerId, a.ifName);
    if (existing) {
      if (existing.netns === a.netns) return { result: resultOfRecord(existing), vxnet: existing.vxnetId };
      throw new PodError('validate', CniCode.conflict, `attachment ${a.containerId}/${a.ifName} is already wired in netns ${existing.netns}`);
    }
    const handleId = handleOf(a);

    // Milliseconds per step, logged with the result: where a slow pod start went.
    const timings: Record<string, number> = {};
    // A container that is not a Kubernetes pod (podman, nerdctl) has no pod object: no annotations to read.
    const kubernetesPod = a.kubernetesPod !== false;
    let annotations: Readonly<Record<string, string>> | undefined;
    try {
      if (kubernetesPod) annotations = await timed(timings, 'read-pod', () => this.#o.podAnnotations(a.podNamespace, a.podName));
    } catch (e) {
      throw new PodError('read-pod', CniCode.tryAgain, `read-pod failed: reading pod ${a.podNamespace}/${a.podName}: ${messageOf(e)}`, { cause: e });
    }
    let fixedIps: string[];
    try {
      fixedIps = fixedIpsOf(annotations);
    } catch (e) {
      throw new PodError('parse-annotation', CniCode.badAnnotation, `parse-annotation failed: ${messageOf(e)}`, { cause: e });
    }

    const step = this.#timedSteps(timings);
    // The journal entry of this ADD, written before the allocation and completed before each later step, so
    // that a restart (replayJournal) or a DEL can undo what a crash left half done.
    const intent = await store.beginIntent('wire-pod', {
      containerId: a.containerId,
      ifName: a.ifName,
      handleId,
      netns: a.netns,
      podNamespace: a.podNamespace,
      podName: a.podName,
      infraContainerId: a.infraContainerId,
    });
    // Journaled under the shared side of the ownership gate: the sweep's last look and its removals exclude
    // it, so a veth name or address this ADD is about to create is never removed as a leftover of the same name.
    const journal = (data: Intent['data']): Promise<unknown> =>
      step('record', CniCode.datastore, () => this.#ownership.shared(() => store.updateIntent(intent.id, data)));
    const fp = this.#failpoint;
    await fp('add:intent');
    // Undo steps, newest first; each is tried even when an earlier one fails.
    const undo = new UndoStack();
    let keepIntent = false;
    let intentOpen = true;
    let lease: NicLease | undefined;
    try {
      signal?.throwIfAborted();
      const allocation = await step('allocate-ip', CniCode.ipam, () =>
        this.#o.ipam.allocate({ handleId, namespace: a.podNamespace, pod: a.podName, node: this.#o.nodeName, fixedIps }),
      );
      undo.push('release-ip', () => this.#o.ipam.release(handleId));
      const hostVeth = hostVethName(a.podNamespace, a.podName, config.vethPrefix || undefined);
      await fp('add:allocated');
      await journal({ ips: joinIps([allocation.address]), hostVeth });

      const noNic = (e: unknown): never => {
        throw signal?.aborted === true || e instanceof PodError ? e : new NicUnavailableError(allocation.pool, e);
      };
      const vxnet = await step('describe-vxnet', CniCode.nic, () => this.#o.vxnets(allocation.pool, signal).catch(noNic));
      // Held until the record is written or the ADD rolled back: the idle release leaves this NIC alone.
      lease = await step('ensure-nic', CniCode.nic, () => this.#o.nics.leaseNic(vxnet, signal).catch(noNic));
      const leased = lease;
      const nic = leased.nic;
      await fp('add:nic-leased');
      signal?.throwIfAborted();

      const podNetns = netnsAtPath(a.netns);
      // The ARP answer for the vxnet is a proxy neighbour entry on the NIC's bridge, set up in the same host-side
      // process as the route and rule (no ebtables, no lock).
      const proxyArpDev = nic.bridge;
      const wiring: PodWiring = await step('wire-pod', CniCode.wiring, () =>
        wirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, podIP: allocation.address, mtu: config.mtu, proxyArpDev }),
      );
      await journal({ hostMac: wiring.hostMac });
      await fp('add:wired');
      undo.push('unwire-pod', () =>
        unwirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, podIP: wiring.podIP, hostMac: wiring.hostMac, proxyArp: { dev: proxyArpDev } }),
      );
      // A lease taken while the NIC's host check ran settles with it: the pod was wired meanwhile, and is recorded
      // only on a NIC that passed.
      await step('ensure-nic', CniCode.nic, () => leased.settled().catch(noNic));

      // Last before the record: a failed patch then has only node-local steps to undo, and a recorded pod
      // (which a repeated ADD answers from) always has its annotations.
      const annotator = kubernetesPod ? this.#o.podAnnotator : undefined;
      if (annotator) {
        await step('annotate-pod', CniCode.badAnnotation, () => annotator(a.podNamespace, a.podName, allocation.address));
      }

      const record: PodServiceRecord = {
        containerId: a.containerId,
        ifName: a.ifName,
        podNamespace: a.podNamespace,
        podName: a.podName,
        infraContainerId: a.infraContainerId,
        netns: a.netns,
        handleId,
        ip: allocation.address,
        vxnetId: allocation.pool,
        nicId: nic.nicId,
        hostVeth: wiring.hostVeth,
        hostVethMac: wiring.hostMac,
        podMac: wiring.podMac,
        createdAt: this.#now().toISOString(),
        ...(this.#o.bootId === undefined ? {} : { bootId: this.#o.bootId }),
        arpMatch: 'proxy',
        arpDev: proxyArpDev,
        mtu: wiring.mtu,
        ...(kubernetesPod ? {} : { kubernetesPod: false as const }),
      };
      // The intent is finished in the record's own transaction: a recorded pod is a done ADD either way.
      await step('record', CniCode.datastore, () => store.putPod(record, [intent.id]));
      intentOpen = false;
      await fp('add:recorded');
      await this.#keepArpAnswer(lease, record.ip, proxyArpDev);
      this.#log.info('pod added', { attachment: attachmentKey(a.containerId, a.ifName), ip: record.ip, vxnet: record.vxnetId, stepsMs: timings, ...this.#apiCount() });
      return { result: resultOfRecord(record), vxnet: record.vxnetId };
    } catch (e) {
      // Aborted (the request's timeout, or the agent stopping): whatever step saw it, the runtime should retry.
      const failure =
        signal?.aborted === true
          ? new PodError(e instanceof PodError ? e.step : 'validate', CniCode.tryAgain, `add aborted: ${messageOf(e)}`, { cause: e })
          : e instanceof PodError
            ? e
            : new PodError('validate', CniCode.internal, `add failed: ${messageOf(e)}`, { cause: e });
      const undoFailures = await undo.unwind();
      if (undoFailures.length > 0) {
        const text = describeUndoFailures(undoFailures);
        this.#log.warn('ADD rollback incomplete', { attachment: attachmentKey(a.containerId, a.ifName), failures: text });
        keepIntent = true;
        throw new PodError(failure.step, failure.cniCode, `${failure.message}; rollback incomplete: ${text}`, { cause: e });
      }
      throw failure;
    } finally {
      // Kept only when the rollback was incomplete: the next DEL or start finishes what it could not.
      if (intentOpen && !keepIntent) await store.finishIntent(intent.id).catch(() => undefined);
      lease?.release();
    }
  }

  /**
   * A NIC repair that changed the host while this ADD was wiring (br_N re-created, its proxy entries gone) put
   * back the entries of recorded pods only; this pod's record came later, so its own entry is put back here.
   * A failure is logged: the record now exists, and the next repair that re-creates the bridge restores it.
   */
  async #keepArpAnswer(lease: NicLease, ip: string, dev: string): Promise<void> {
    if (!lease.hostChanged()) return;
    try {
      await ensureProxyNeighbours([{ ip, dev }], { netns: this.#hostNetns });
      this.#log.info('NIC repaired during ADD; proxy ARP entry put back', { ip, dev });
    } catch (e) {
      this.#log.warn('NIC repaired during ADD; proxy ARP entry not put back', { ip, dev, error: messageOf(e) });
    }
  }

  /** `{ api: { reads, writes } }` of the operation under way, for its log line; nothing without a meter. */
  #apiCount(): { api?: { readonly reads: number; readonly writes: number } } {
    const api = this.#o.apiMeter?.current();
    return api === undefined ? {} : { api };
  }

  async #step<T>(step: StepName, code: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw stepError(step, code, e);
    }
  }

  /** `#step` that also adds each step's milliseconds to `timings`. */
  #timedSteps(timings: Record<string, number>): <T>(step: StepName, code: number, fn: () => Promise<T>) => Promise<T> {
    return (step, code, fn) => timed(timings, step, () => this.#step(step, code, fn));
  }

  del(request: DelRequest): Promise<void> {
    const a = checkAttachment(request.attachment, 'del');
    return this.#measured(() => this.#locks.run(attachmentKey(a.containerId, a.ifName), () => this.#del(a, request.config, { ip: ipOfResult(request.prevResult, a.ifName) }))).catch((e: unknown) => {
      if (e instanceof PodError) {
        const kind = delFailureKind(e.step);
        if (kind !== undefined) this.#o.onFailure?.(kind);
      }
      throw e;
    });
  }

  /**
   * Takes down whatever of the attachment exists, from its record, else the journal, else the request; succeeds
   * when nothing is left. Every open pod intent of the attachment is finished with it.
   */
  async #del(a: Attachment, config: PluginConfig | undefined, known: KnownPod): Promise<void> {
    const store = this.#o.store;
    const timings: Record<string, number> = {};
    const record = (await store.getPod(a.containerId, a.ifName)) as PodServiceRecord | undefined;
    const journaled = journaledPod(await store.listIntents(), a.containerId, a.ifName);
    const handleId = record?.handleId ?? journaled?.handleId ?? handleOfIdentity(a);
    const netnsPath = [a.netns, record?.netns, journaled?.netns].find(present);
    const podNetns = netnsPath === undefined ? undefined : netnsAtPath(netnsPath);
    if (!record && !journaled && handleId === undefined) {
      // Nothing of ours is known under this key (CNI_ARGS without the pod): only the pod's interface can be ours.
      await timed(timings, 'unwire-pod', () => this.#step('unwire-pod', CniCode.wiring, () => unwirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName })));
      return;
    }
    const identityVeth = present(a.podNamespace) && present(a.podName) ? hostVethName(a.podNamespace, a.podName, config?.vethPrefix || undefined) : undefined;
    // A late DEL of an older sandbox of the same pod (a spooled release, a runtime's garbage collection) names
    // the host veth by the pod's identity, which the newer sandbox's veth has too, and its address may have gone
    // to the newer one: what another attachment's record holds is not this DEL's to remove.
    // Read only without a record: a recorded attachment's address is its own, and its veth is removed only when
    // the MAC matches, so a recorded DEL does not pay for listing every pod.
    const others = record ? [] : (await store.listPods()).filter((p) => !(p.containerId === a.containerId && p.ifName === a.ifName));
    const ownVeth = record?.hostVeth ?? journaled?.hostVeth ?? identityVeth;
    const hostVeth = ownVeth !== undefined && others.some((p) => p.hostVeth === ownVeth) ? undefined : ownVeth;
    const hostMac = record?.hostVethMac ?? journaled?.hostMac;
    let ips: readonly string[] = record ? [record.ip] : known.ip !== undefined ? [known.ip] : (journaled?.ips ?? []);
    const intent = await store.beginIntent('unwire-pod', {
      containerId: a.containerId,
      ifName: a.ifName,
      handleId: handleId ?? null,
      ips: joinIps(ips),
      netns: netnsPath ?? null,
      hostVeth: hostVeth ?? null,
      hostMac: hostMac ?? null,
    });
    await this.#failpoint('del:intent');

    let released = false;
    if (ips.length === 0 && handleId !== undefined) {
      // No record, prevResult or journal names the address: the handle does, and releasing it says which.
      const held = await timed(timings, 'release-ip', () => this.#step('release-ip', CniCode.ipam, () => this.#o.ipam.release(handleId)));
      released = true;
      ips = held.map((h) => h.address);
      // Journaled before acting on them: a DEL cut off now still knows the addresses the IPAM forgot.
      if (ips.length > 0) await this.#step('record', CniCode.datastore, () => store.updateIntent(intent.id, { ips: joinIps(ips) }));
    }

    // The record's ARP answer: a proxy entry (this release; removed with the rule, no ebtables), or the
    // ebtables arpreply an earlier release or the Go agent installed.
    const arp = record ? arpOfRecord(record) : undefined;
    const proxyDev = record ? proxyArpDevOf(record) : undefined;
    const heldByOthers = new Set(others.map((p) => p.ip));
    const podSideDone = ips.some((ip) => heldByOthers.has(ip));
    if (podSideDone) {
      // The pod's own interface still goes; the host side of an address another attachment holds stays.
      await timed(timings, 'unwire-pod', () => this.#step('unwire-pod', CniCode.wiring, () => unwirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName })));
    }
    for (const [n, ip] of ips.filter((i) => !heldByOthers.has(i)).entries()) {
      let proxyArp: { dev?: string } | undefined;
      if (proxyDev !== undefined && record?.ip === ip) {
        proxyArp = { dev: proxyDev };
      } else if (arp && arp.ip === ip) {
        await timed(timings, 'remove-arp-reply', () => this.#step('unwire-pod', CniCode.arpReply, () => removeArpReply(arp, this.#ebtables())));
      } else {
        // No record of the form: remove every answer for the IP of either kind (no other attachment has it).
        await timed(timings, 'remove-arp-reply', () => this.#step('unwire-pod', CniCode.arpReply, () => removeArpReplies({ ip }, this.#ebtables())));
        proxyArp = {};
      }
      await timed(timings, 'unwire-pod', () => this.#step('unwire-pod', CniCode.wiring, () =>
        unwirePod({ podNetns: n === 0 && !podSideDone ? podNetns : undefined, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, podIP: ip, hostMac, proxyArp }),
      ));
    }
    if (ips.length === 0) {
      await timed(timings, 'unwire-pod', () => this.#step('unwire-pod', CniCode.wiring, () => unwirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, hostMac })));
    }
    await this.#failpoint('del:unwired');
    if (!released && handleId !== undefined) {
      await timed(timings, 'release-ip', () => this.#step('release-ip', CniCode.ipam, () => this.#o.ipam.release(handleId)));
    }
    await this.#failpoint('del:released');
    // The DEL's intents go with the record, in one transaction: nothing is left to undo once it is gone.
    const finishing = [...(journaled?.intentIds ?? []), intent.id];
    await timed(timings, 'record', () => this.#step('record', CniCode.datastore, () => store.deletePod(a.containerId, a.ifName, finishing)));
    await this.#failpoint('del:record-deleted');
    if (record) await this.#o.nics.podLeft?.(record.nicId);
    if (record || ips.length > 0) this.#log.info('pod deleted', { attachment: attachmentKey(a.containerId, a.ifName), ips, stepsMs: timings, ...this.#apiCount() });
  }

  /**
   * Finishes or undoes every pod operation the journal holds open (a crash, or a rollback that failed): an ADD
   * whose record was written is done; any other ADD, and every cut-off DEL, is undone as DEL does. Run at start
   * before the agent reports ready.
   * @returns attachments done, undone, and those that failed (still open; retried at the next call)
   */
  async replayJournal(): Promise<{ finished: string[]; undone: string[]; failed: { attachment: string; error: string }[] }> {
    const outcome: { finished: string[]; undone: string[]; failed: { attachment: string; error: string }[] } = { finished: [], undone: [], failed: [] };
    for (const j of journaledPods(await this.#o.store.listIntents())) {
      const key = attachmentKey(j.containerId, j.ifName);
      try {
        await this.#locks.run(key, () => this.#replayOne(j, outcome, key));
      } catch (e) {
        outcome.failed.push({ attachment: key, error: messageOf(e) });
      }
    }
    if (outcome.finished.length + outcome.undone.length + outcome.failed.length > 0) this.#log.info('pod journal replayed', outcome);
    return outcome;
  }

  async #replayOne(j: JournaledPod, outcome: { finished: string[]; undone: string[] }, key: string): Promise<void> {
    const store = this.#o.store;
    // Read again under the lock: the journal may have moved since the list.
    const now = journaledPod(await store.listIntents(), j.containerId, j.ifName);
    if (!now) return;
    const record = await store.getPod(j.containerId, j.ifName);
    if (record && !now.deleting && (now.handleId === undefined || now.handleId === record.handleId)) {
      for (const id of now.intentIds) await store.finishIntent(id);
      outcome.finished.push(key);
      return;
    }
    await this.#del(attachmentOfJournal(now), undefined, {});
    outcome.undone.push(key);
  }

  /** DEL of a recorded attachment, under its lock (the agent's own releases: gone pods, GC, other boots). */
  #delRecord(r: PodRecord, config: PluginConfig | undefined): Promise<void> {
    // Records do not say whether the pod was a Kubernetes one; #del does not read it.
    const attachment: Attachment = { containerId: r.containerId, netns: r.netns, ifName: r.ifName, podNamespace: r.podNamespace, podName: r.podName, infraContainerId: r.infraContainerId, kubernetesPod: true };
    return this.#locks.run(attachmentKey(r.containerId, r.ifName), () => this.#del(attachment, config, { ip: r.ip }));
  }

  async check(request: CheckRequest): Promise<void> {
    const a = checkAttachment(request.attachment, 'check');
    const record = (await this.#o.store.getPod(a.containerId, a.ifName)) as PodServiceRecord | undefined;
    const mismatch = (msg: string): PodError => new PodError('check', CniCode.checkMismatch, `check failed: ${msg}`);
    if (!record) throw mismatch(`the agent has no record of ${a.containerId}/${a.ifName}`);
    const prevIp = ipOfResult(request.prevResult, a.ifName);
    if (prevIp !== undefined && prevIp !== record.ip) throw mismatch(`prevResult has ${prevIp}, the agent recorded ${record.ip}`);
    if (record.netns !== a.netns) throw mismatch(`recorded netns ${record.netns}, asked about ${a.netns}`);
    const arp = arpOfRecord(record);
    const outcome = await this.#step('check', CniCode.checkMismatch, () =>
      checkPod({
        podNetns: netnsAtPath(a.netns),
        hostNetns: this.#hostNetns,
        ifName: a.ifName,
        hostVeth: record.hostVeth,
        podIP: record.ip,
        mtu: record.mtu ?? request.config.mtu,
        proxyArpDev: proxyArpDevOf(record),
      }),
    );
    if (!outcome.ok) throw mismatch(outcome.mismatch);
    if (arp) {
      const copies = await this.#step('check', CniCode.checkMismatch, () => countArpReply(arp, this.#ebtables()));
      if (copies !== 1) throw mismatch(`arpreply entry for ${arp.ip} on ${arp.dev}: ${copies} copies, want 1`);
    }
  }

  /**
   * Releases records whose pod is gone without a DEL (see gone.ts): looks every record's pod up, acts on
   * those seen gone for `graceMs` in two looks, reads each once more right before releasing it, and then
   * does what DEL does (ARP entry, host wiring, IP, record).
   * @returns what was released, and why
   */
  async releaseGonePods(
    lookup: (namespace: string, name: string) => Promise<PodPresence>,
    options: {
      readonly graceMs: number;
      /** The final look before releasing; default `lookup` (pass a fresh API read when `lookup` is a cache). */
      readonly confirm?: (namespace: string, name: string) => Promise<PodPresence>;
    },
  ): Promise<{ containerId: string; ifName: string; pod: string; reason: GoneReason }[]> {
    // Containers that are not pods have no pod object to be gone: DEL or GC releases them.
    const records = (await this.#o.store.listPods()).filter((r) => (r as PodServiceRecord).kubernetesPod !== false);
    const presence = new Map<string, PodPresence>();
    for (const r of records) {
      const key = `${r.podNamespace}/${r.podName}`;
      if (!presence.has(key)) presence.set(key, await askPresence(lookup, r.podNamespace, r.podName));
    }
    const due = this.#gone.observe(records, (r) => presence.get(`${r.podNamespace}/${r.podName}`) ?? { kind: 'unknown', reason: 'not looked up' }, this.#now().getTime(), options.graceMs);
    const released: { containerId: string; ifName: string; pod: string; reason: GoneReason }[] = [];
    for (const { record, reason } of due) {
      // The final look: a pod that came back (or an API that cannot answer) keeps its record.
      const fresh = await askPresence(options.confirm ?? lookup, record.podNamespace, record.podName);
      if (goneReason(record, fresh) === undefined) {
        this.#gone.forget(record);
        continue;
      }
      try {
        await this.#delRecord(record, undefined);
        this.#gone.forget(record);
        released.push({ containerId: record.containerId, ifName: record.ifName, pod: `${record.podNamespace}/${record.podName}`, reason });
        this.#log.info('released the attachment of a pod that is gone', { attachment: attachmentKey(record.containerId, record.ifName), pod: `${record.podNamespace}/${record.podName}`, ip: record.ip, reason });
      } catch (e) {
        this.#log.warn('releasing the attachment of a gone pod failed; retried at the next look', { attachment: attachmentKey(record.containerId, record.ifName), error: messageOf(e) });
      }
    }
    return released;
  }

  /**
   * After a node reboot: releases the records of pods wired under another boot (their sandboxes died with it;
   * call this once the runtime had its chance to DEL them), as DEL does: IPAM handle, ARP reply, record.
   * @returns the attachments released; a failure is logged and left for the next call
   */
  async releaseOtherBoots(bootId: string): Promise<{ released: string[]; failed: string[] }> {
    const outcome: { released: string[]; failed: string[] } = { released: [], failed: [] };
    for (const r of (await this.#o.store.listPods()) as PodServiceRecord[]) {
      if (r.bootId === bootId) continue;
      const key = attachmentKey(r.containerId, r.ifName);
      try {
        await this.#delRecord(r, undefined);
        outcome.released.push(key);
      } catch (e) {
        outcome.failed.push(key);
        this.#log.warn('releasing a pod of a previous boot failed; retried later', { attachment: key, error: messageOf(e) });
      }
    }
    if (outcome.released.length > 0) this.#log.info('released the pods of a previous boot', outcome);
    return outcome;
  }

  /**
   * The node-local sweep (see sweep.ts): removes our kernel objects that no record and no open intent own,
   * once two looks in a row found them so; a last read of the store right before acting keeps anything an
   * operation took meanwhile. Run at start and on the sync timer.
   * @returns what was removed, what waits for its second look, and the removals that failed
   */
  async sweepNode(): Promise<{ removed: Orphan[]; waiting: number; failed: string[] }> {
    const { kernel, found } = await this.#lookForOrphans();
    const due = this.#sweepLooks.observe(found);
    const { removed, failed } = await this.#removeConfirmed(kernel, due);
    if (removed.length + failed.length > 0) this.#log.warn('node sweep removed kernel objects nothing owned', { removed, failed });
    return { removed, waiting: found.length - due.length, failed };
  }

  /**
   * The sweep on demand (`hostnic-agent check`): what is orphaned now; with `fix`, removes each orphan a second
   * look taken right away confirms (the store is read after the kernel each time, so an operation in flight,
   * which journals before it touches the kernel, keeps its objects).
   */
  async checkNode(fix: boolean): Promise<{ found: Orphan[]; removed: Orphan[]; failed: string[] }> {
    const { kernel, found } = await this.#lookForOrphans();
    if (!fix) return { found, removed: [], failed: [] };
    const { removed, failed } = await this.#removeConfirmed(kernel, found);
    if (removed.length + failed.length > 0) this.#log.warn('node check removed kernel objects nothing owned', { removed, failed });
    return { found, removed, failed };
  }

  async #lookForOrphans(): Promise<{ kernel: KernelView; found: Orphan[] }> {
    const kernel = await this.#kernelView();
    return { kernel, found: orphansOf(kernel, await this.#ownedView(), this.#sweepShape()) };
  }

  #sweepShape(): SweepShape {
    return { vethPrefix: 'vnic', routeTableBase: this.#o.routeTableBase ?? 260 };
  }

  /** The store, read after the kernel: an object made after its intent is never missed. */
  async #ownedView(): Promise<OwnedView> {
    return {
      pods: await this.#o.store.listPods(),
      nics: await this.#o.store.listNics(),
      intents: await this.#o.store.listIntents(),
      tables: await this.#o.store.listRouteTables(),
    };
  }

  /**
   * Removes those of `candidates` that a last read of the store still finds orphaned. The read and the removals
   * hold the ownership gate exclusively: an ADD cannot journal a veth or address between them.
   */
  async #removeConfirmed(kernel: KernelView, candidates: readonly Orphan[]): Promise<{ removed: Orphan[]; failed: string[] }> {
    if (candidates.length === 0) return { removed: [], failed: [] };
    return this.#ownership.exclusive(() => this.#removeStillOrphaned(kernel, candidates));
  }

  async #removeStillOrphaned(kernel: KernelView, candidates: readonly Orphan[]): Promise<{ removed: Orphan[]; failed: string[] }> {
    const removed: Orphan[] = [];
    const failed: string[] = [];
    const still = new Set(orphansOf(kernel, await this.#ownedView(), this.#sweepShape()).map(orphanId));
    for (const o of candidates) {
      if (!still.has(orphanId(o))) continue;
      try {
        await this.#removeOrphan(kernel, o);
        removed.push(o);
      } catch (e) {
        failed.push(`${o.kind} ${o.key}: ${messageOf(e)}`);
      }
    }
    return { removed, failed };
  }

  async #removeOrphan(kernel: KernelView, o: Orphan): Promise<void> {
    const netns = { netns: this.#hostNetns };
    switch (o.kind) {
      case 'veth':
      case 'bridge':
        return deleteLink(o.key, netns);
      case 'rule':
        return removeRule(podRule(o.key), netns);
      case 'arp-reply':
        await removeArpReplies({ ip: o.key }, this.#ebtables());
        return;
      case 'proxy-arp':
        return removeProxyNeighbour({ ip: o.key, dev: o.dev }, { netns: this.#hostNetns });
      case 'table': {
        const table = Number(o.key);
        const ops = (kernel.tableRules ?? [])
          .filter((r) => r.priority === NIC_RULE_PRIORITY && r.table === table)
          .map((r) => ruleDelOp({ priority: NIC_RULE_PRIORITY, table, ...(r.src === undefined ? {} : { src: r.src }) }));
        if ((kernel.tableRoutes ?? []).some((r) => r.table === table)) ops.push(routeFlushTableOp(table));
        await applyBatchOrThrow(ops, netns);
        return;
      }
    }
  }

  async #kernelView(): Promise<KernelView> {
    const snap = await readSnapshot({ netns: this.#hostNetns, parts: ['links', 'rules', 'routes'] });
    const proxyArps = await listProxyNeighbours({ netns: this.#hostNetns });
    const listed = await listEbtablesChain('nat', 'PREROUTING', this.#ebtables());
    const arpReplies: { ip: string; mac: string }[] = [];
    for (const r of listed) {
      const ip = r.options.get('--arp-ip-dst');
      const mac = r.options.get('--arpreply-mac');
      if (r.options.get('-j') === 'arpreply' && ip !== undefined && mac !== undefined) arpReplies.push({ ip, mac });
    }
    const tableRules: { priority: number; table: number; src?: string | undefined }[] = [];
    for (const r of snap.rules) if (r.action === 'lookup' && r.table !== undefined) tableRules.push({ priority: r.priority, table: r.table, src: r.src });
    return {
      vethNames: snap.links.filter((l) => l.kind === 'veth').map((l) => l.name),
      ruleIps: snap.rules
        .filter((r) => r.priority === 1535 && r.table === 254 && r.src === undefined && r.dst?.endsWith('/32') === true)
        .map((r) => (r.dst ?? '').slice(0, -3)),
      arpReplies,
      proxyArps,
      tableRules,
      tableRoutes: snap.routes.filter((r) => r.table < 253 || r.table > 255).map((r) => ({ table: r.table, dev: r.dev })),
      bridges: snap.links
        .filter((l) => l.kind === 'bridge')
        .map((l) => ({ name: l.name, ports: snap.links.filter((p) => p.master === l.name).map((p) => p.name) })),
    };
  }

  async gc(request: GcRequest): Promise<GcResponse> {
    // A GC without the list of valid attachments would release everything: never.
    if (!Array.isArray(request.validAttachments)) return { released: [] };
    const valid = new Set(request.validAttachments.map((v) => attachmentKey(v.containerId, v.ifName)));
    const released: GcResponse['released'] = [];
    const failures: string[] = [];
    for (const p of await this.#o.store.listPods()) {
      if (valid.has(attachmentKey(p.containerId, p.ifName))) continue;
      try {
        await this.#delRecord(p, request.config);
        released.push({ containerId: p.containerId, ifName: p.ifName });
      } catch (e) {
        failures.push(`${attachmentKey(p.containerId, p.ifName)}: ${messageOf(e)}`);
      }
    }
    if (failures.length > 0) {
      this.#log.warn('GC could not release some attachments', { failures, released });
      throw new PodError('release-ip', CniCode.tryAgain, `gc released ${released.length}, failed: ${failures.join('; ')}`);
    }
    return { released };
  }
}
