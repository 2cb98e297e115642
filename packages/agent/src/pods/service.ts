/**
 * The CNI verbs on the agent side (spec agent.md 2.3-2.4, cni-dataplane.md 3.4-3.5 and 4, architecture 5):
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
  checkPod,
  countArpReply,
  hostVethName,
  installArpReply,
  netnsAtPath,
  removeArpReplies,
  removeArpReply,
  unwirePod,
  wirePod,
} from '@hostnic/netlink';
import type { ArpReplyEntry, ArpReplyMatch, Netns, PodWiring } from '@hostnic/netlink';
import { KeyedLock } from '@hostnic/runtime';
import type { NicRecord, PodRecord, VxnetInfo } from '../types.ts';
import { fixedIpsOf } from './annotations.ts';
import { GonePodTracker, goneReason } from './gone.ts';
import { addFailureKind, delFailureKind } from './failures.ts';
import type { IpamFailure } from './failures.ts';
import type { GoneReason, PodPresence } from './gone.ts';
import { CniCode, PodError, messageOf, stepError } from './errors.ts';
import { arpOfRecord, attachmentKey, ipOfResult, resultOfRecord } from './records.ts';
import type { PodServiceRecord } from './records.ts';
import type { VxnetLookup } from './vxnets.ts';

/** The allocator as the service uses it (`Ipam` of @hostnic/ipam). */
export interface PodIpam {
  allocate(request: AllocateRequest): Promise<Allocation>;
  release(handleId: string): Promise<unknown>;
}

/** The NIC manager as the service uses it. */
export interface PodNics {
  ensureNic(vxnet: VxnetInfo, signal?: AbortSignal): Promise<NicRecord>;
}

/** The datastore as the service uses it (`AgentDatastore`). */
export interface PodStore {
  getPod(containerId: string, ifName: string): Promise<PodRecord | undefined>;
  putPod(pod: PodRecord): Promise<void>;
  deletePod(containerId: string, ifName: string): Promise<PodRecord | undefined>;
  listPods(): Promise<PodRecord[]>;
  beginIntent(kind: 'wire-pod' | 'unwire-pod', data: Record<string, string | number | boolean | null>): Promise<{ id: string }>;
  finishIntent(id: string): Promise<void>;
}

/** The pod's annotations (the Kubernetes read); a rejection means the API server could not be asked. */
export type PodAnnotations = (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined>;

/**
 * Publishes the pod IP on the pod (the Calico annotations, spec agent.md 2.3 step 6). A rejection fails the
 * ADD; a PodError with code 11 marks an API server condition that goes away by itself.
 */
export type PodAnnotator = (namespace: string, name: string, ip: string) => Promise<void>;

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
}

const silent: PodLogger = { info: () => undefined, warn: () => undefined };

function checkAttachment(a: Attachment | undefined, needNetns: boolean): Attachment {
  if (!a || typeof a !== 'object') throw new PodError('validate', CniCode.invalidEnv, 'request has no attachment');
  const fields: (keyof Attachment)[] = ['containerId', 'ifName', 'podNamespace', 'podName', 'infraContainerId'];
  if (needNetns) fields.push('netns');
  for (const f of fields) {
    if (typeof a[f] !== 'string' || a[f] === '') throw new PodError('validate', CniCode.invalidEnv, `attachment.${f} is missing`);
  }
  return a;
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
  /** The ARP entry form this kernel took last; a kernel that refuses `--logical-in` refuses it every time. */
  #arpForm: ArpReplyMatch | undefined;
  readonly #gone = new GonePodTracker();

  constructor(options: PodServiceOptions) {
    this.#o = options;
    this.#log = options.logger ?? silent;
    this.#hostNetns = options.hostNetns ?? CURRENT_NETNS;
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

  add(request: AddRequest, signal?: AbortSignal): Promise<AddResponse> {
    const a = checkAttachment(request.attachment, true);
    return this.#locks.run(attachmentKey(a.containerId, a.ifName), () => this.#add(a, request.config, signal)).catch((e: unknown) => {
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
    const intent = await store.beginIntent('wire-pod', { containerId: a.containerId, ifName: a.ifName, handleId, netns: a.netns });
    // Undo steps, newest first; each is tried even when an earlier one fails.
    const undo: { what: string; run: () => Promise<unknown> }[] = [];
    let keepIntent = false;
    try {
      signal?.throwIfAborted();
      const allocation = await step('allocate-ip', CniCode.ipam, () =>
        this.#o.ipam.allocate({ handleId, namespace: a.podNamespace, pod: a.podName, node: this.#o.nodeName, fixedIps }),
      );
      undo.push({ what: 'release-ip', run: () => this.#o.ipam.release(handleId) });

      const vxnet = await step('describe-vxnet', CniCode.nic, () => this.#o.vxnets(allocation.pool, signal));
      const nic = await step('ensure-nic', CniCode.nic, () => this.#o.nics.ensureNic(vxnet, signal));
      signal?.throwIfAborted();

      const hostVeth = hostVethName(a.podNamespace, a.podName, config.vethPrefix || undefined);
      const podNetns = netnsAtPath(a.netns);
      const wiring: PodWiring = await step('wire-pod', CniCode.wiring, () =>
        wirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, podIP: allocation.address, mtu: config.mtu }),
      );
      undo.push({
        what: 'unwire-pod',
        run: () => unwirePod({ podNetns, hostNetns: this.#hostNetns, ifName: a.ifName, hostVeth, podIP: wiring.podIP, hostMac: wiring.hostMac }),
      });

      // Registered before the install: a failed install may still have inserted an entry (or the first of its
      // two forms). The IP was just allocated to this handle, so every entry for it is ours.
      const installed: { entry?: ArpReplyEntry } = {};
      undo.push({
        what: 'remove-arp-reply',
        run: () =>
          installed.entry
            ? removeArpReply(installed.entry, this.#ebtables())
            : removeArpReplies({ ip: allocation.address }, this.#ebtables()),
      });
      const arp = await step('arp-reply', CniCode.arpReply, () =>
        installArpReply({ ip: allocation.address, mac: nic.nicId, bridge: nic.bridge, nicLink: nic.linkName }, this.#ebtables(), this.#arpForm),
      );
      installed.entry = arp;
      this.#arpForm = arp.match;

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
        arpMatch: arp.match,
        arpDev: arp.dev,
        mtu: wiring.mtu,
        ...(kubernetesPod ? {} : { kubernetesPod: false as const }),
      };
      await step('record', CniCode.datastore, () => store.putPod(record));
      this.#log.info('pod added', { attachment: attachmentKey(a.containerId, a.ifName), ip: record.ip, vxnet: record.vxnetId, arp: arp.match, stepsMs: timings });
      return { result: resultOfRecord(record), vxnet: record.vxnetId };
    } catch (e) {
      const failure =
        e instanceof PodError
          ? e
          : new PodError('validate', signal?.aborted === true ? CniCode.tryAgain : CniCode.internal, `add aborted: ${messageOf(e)}`, { cause: e });
      const undoFailures: string[] = [];
      for (const step of undo.reverse()) {
        try {
          await step.run();
        } catch (u) {
          undoFailures.push(`${step.what}: ${messageOf(u)}`);
        }
      }
      if (undoFailures.length > 0) {
        this.#log.warn('ADD rollback incomplete', { attachment: attachmentKey(a.containerId, a.ifName), failures: undoFailures });
        keepIntent = true;
        throw new PodError(failure.step, failure.cniCode, `${failure.message}; rollback incomplete: ${undoFailures.join('; ')}`, { cause: e });
      }
      throw failure;
    } finally {
      // Kept only when the rollback was incomplete: the reconciler finishes what it could not.
      if (!keepIntent) await store.finishIntent(intent.id).catch(() => undefined);
    }
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
    const a = checkAttachment(request.attachment, false);
    return this.#locks.run(attachmentKey(a.containerId, a.ifName), () => this.#del(a, request.config, ipOfResult(request.prevResult, a.ifName))).catch((e: unknown) => {
      if (e instanceof PodError) {
        const kind = delFailureKind(e.step);
        if (kind !== undefined) this.#o.onFailure?.(kind);
      }
      throw e;
    });
  }

  async #del(a: Attachment, config: PluginConfig | undefined, prevIp: string | undefined): Promise<void> {
    const store = this.#o.store;
    const timings: Record<string, number> = {};
    const record = (await store.getPod(a.containerId, a.ifName)) as PodServiceRecord | undefined;
    const handleId = record?.handleId ?? handleOf(a);
    const ip = record?.ip ?? prevIp;
    const netnsPath = a.netns !== '' ? a.netns : record?.netns;
    const hostVeth = record?.hostVeth ?? hostVethName(a.podNamespace, a.podName, config?.vethPrefix || undefined);
    const intent = await store.beginIntent('unwire-pod', { containerId: a.containerId, ifName: a.ifName, handleId, ip: ip ?? null });

    const arp = record ? arpOfRecord(record) : undefined;
    if (arp) {
      await timed(timings, 'remove-arp-reply', () => this.#step('unwire-pod', CniCode.arpReply, () => removeArpReply(arp, this.#ebtables())));
    } else if (ip !== undefined && !(await this.#ipHeldByOther(ip, a))) {
      // No record of the form: remove every entry for the IP, unless another attachment of this node has it.
      await timed(timings, 'remove-arp-reply', () => this.#step('unwire-pod', CniCode.arpReply, () => removeArpReplies({ ip }, this.#ebtables())));
    }
    await timed(timings, 'unwire-pod', () => this.#step('unwire-pod', CniCode.wiring, () =>
      unwirePod({
        podNetns: netnsPath === undefined ? undefined : netnsAtPath(netnsPath),
        hostNetns: this.#hostNetns,
        ifName: a.ifName,
        hostVeth,
        podIP: ip,
        hostMac: record?.hostVethMac,
      }),
    ));
    await timed(timings, 'release-ip', () => this.#step('release-ip', CniCode.ipam, () => this.#o.ipam.release(handleId)));
    await timed(timings, 'record', () => this.#step('record', CniCode.datastore, () => store.deletePod(a.containerId, a.ifName)));
    await store.finishIntent(intent.id);
    if (record || ip !== undefined) this.#log.info('pod deleted', { attachment: attachmentKey(a.containerId, a.ifName), ip, stepsMs: timings });
  }

  async #ipHeldByOther(ip: string, a: Attachment): Promise<boolean> {
    const pods = await this.#o.store.listPods();
    return pods.some((p) => p.ip === ip && !(p.containerId === a.containerId && p.ifName === a.ifName));
  }

  async check(request: CheckRequest): Promise<void> {
    const a = checkAttachment(request.attachment, true);
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
      const attachment: Attachment = {
        containerId: record.containerId,
        netns: record.netns,
        ifName: record.ifName,
        podNamespace: record.podNamespace,
        podName: record.podName,
        infraContainerId: record.infraContainerId,
        // Only a Kubernetes pod can be gone from the API server.
        kubernetesPod: true,
      };
      try {
        await this.#locks.run(attachmentKey(record.containerId, record.ifName), () => this.#del(attachment, undefined, record.ip));
        this.#gone.forget(record);
        released.push({ containerId: record.containerId, ifName: record.ifName, pod: `${record.podNamespace}/${record.podName}`, reason });
        this.#log.info('released the attachment of a pod that is gone', { attachment: attachmentKey(record.containerId, record.ifName), pod: `${record.podNamespace}/${record.podName}`, ip: record.ip, reason });
      } catch (e) {
        this.#log.warn('releasing the attachment of a gone pod failed; retried at the next look', { attachment: attachmentKey(record.containerId, record.ifName), error: messageOf(e) });
      }
    }
    return released;
  }

  async gc(request: GcRequest): Promise<GcResponse> {
    // A GC without the list of valid attachments would release everything: never.
    if (!Array.isArray(request.validAttachments)) return { released: [] };
    const valid = new Set(request.validAttachments.map((v) => attachmentKey(v.containerId, v.ifName)));
    const released: GcResponse['released'] = [];
    const failures: string[] = [];
    for (const p of await this.#o.store.listPods()) {
      if (valid.has(attachmentKey(p.containerId, p.ifName))) continue;
      const attachment: Attachment = {
        containerId: p.containerId,
        netns: p.netns,
        ifName: p.ifName,
        podNamespace: p.podNamespace,
        podName: p.podName,
        infraContainerId: p.infraContainerId,
        // Records do not say yet; #del does not read it.
        kubernetesPod: true,
      };
      try {
        await this.#locks.run(attachmentKey(p.containerId, p.ifName), () => this.#del(attachment, request.config, p.ip));
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
