/**
 * The dataplane of one pod (docs/dataplane.md#per-pod-setup): the two-process ADD, its exact inverse for DEL, and a
 * read-only CHECK that names the first mismatch.
 *
 * DEL is two processes side by side (the pod end; rule 1535 and the proxy entry), see {@link unwirePod}.
 *
 * ADD is two processes:
 * 1. in the pod namespace, `sh -c '<rp_filter default 0>; exec ip -batch -'` creates the veth pair with the
 *    host end placed straight into the host namespace (`netns <pid>`), both MACs chosen up front, then the
 *    address, the permanent neighbour for 169.254.1.1 and the two routes. It runs without `-force`: every
 *    line depends on the link the first line creates, and after a failed `link add` (the name exists) the
 *    rest must not touch somebody else's interface.
 * 2. in the host namespace, `ip -force -batch -`: host end up, `/32` route (replace), rule 1535, and (with
 *    `proxyArpDev`) the proxy neighbour entry that answers the vxnet's ARP requests for the pod IP.
 * Host sysctls are plain /proc/sys writes when the host is the calling process's namespace, or a shell
 * prelude of the second process otherwise. The older ARP answer, an ebtables arpreply entry, is ebtables.ts;
 * CHECK still reads it for pods wired that way.
 *
 * @packageDocumentation
 */

import { assertIPv4, checkMac, randomMac, sameMac } from './addr-util.ts';
import type { BatchOp, BatchOptions, Prelude } from './batch.ts';
import { PRELUDE_MARKER, applyBatch, applyBatchOrThrow, readBatch } from './batch.ts';
import type { ArpReplyEntry, EbtablesOptions } from './ebtables.ts';
import { listArpReplies, sameArpReply } from './ebtables.ts';
import { CommandError, ExistsError, InvalidArgumentError, NetnsGoneError } from './errors.ts';
import type { ExecOptions } from './exec.ts';
import { addrReplaceOp } from './addresses.ts';
import { findLink, linkDelOp, linkSetOp, vethAddOp, deleteLink } from './links.ts';
import type { ProxyNeighbour } from './neigh.ts';
import { listProxyNeighbours, neighReplaceOp, proxyNeighFlushOp, proxyNeighReplaceOp } from './neigh.ts';
import { validateIfName } from './names.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS, assertLiveNetns, describeNetns, isLiveNetns } from './netns.ts';
import { parseLinks, parseRoutes } from './parse.ts';
import { routeDelOp, routeReplaceOp } from './routes.ts';
import type { RuleSpec } from './rules.ts';
import { isExactRule, removeRule, ruleAddOp, ruleDelOp } from './rules.ts';
import { readSnapshot } from './snapshot.ts';
import type { SysctlEntry } from './sysctl.ts';
import { confSysctl, ipForwardSysctl, proxyDelaySysctl, readSysctls, sysctlPrelude, writeSysctls } from './sysctl.ts';
import type { Link, Snapshot } from './types.ts';
import { RouteTable } from './types.ts';

/** The link-local gateway every pod routes through [compat]. */
export const POD_GATEWAY = '169.254.1.1';
/** Priority of the `to <pod IP> lookup main` rule [compat]. */
export const POD_RULE_PRIORITY = 1535;
/** Default MTU of both veth ends. */
export const DEFAULT_MTU = 1500;

/** What to build for one pod. */
export interface PodWiringSpec {
  /** The pod's network namespace (CNI_NETNS). */
  readonly podNetns: Netns;
  /** The host (node) namespace; default the calling process's. */
  readonly hostNetns?: Netns | undefined;
  /** Interface name inside the pod (CNI_IFNAME). */
  readonly ifName: string;
  /** Host end name, see {@link hostVethName}. */
  readonly hostVeth: string;
  readonly podIP: string;
  /** MTU of both ends; default 1500. */
  readonly mtu?: number | undefined;
  /** MAC of the host end; default random (locally administered, unicast). */
  readonly hostMac?: string | undefined;
  /** MAC of the pod end; default random. */
  readonly podMac?: string | undefined;
  /**
   * The device whose proxy neighbour entry answers ARP for the pod IP (the vxnet's bridge `br_<table>`, which
   * has the NIC's MAC); its proxy_delay is set to 0. Absent: no ARP answer is set up here.
   */
  readonly proxyArpDev?: string | undefined;
}

/** What was built (everything the CNI result needs, with no read-back). */
export interface PodWiring {
  readonly podNetns: Netns;
  readonly hostNetns: Netns;
  readonly ifName: string;
  readonly hostVeth: string;
  readonly podIP: string;
  readonly mtu: number;
  readonly hostMac: string;
  readonly podMac: string;
  readonly proxyArpDev?: string | undefined;
}

/** The two processes of an ADD, as data (pure; see {@link planPodAdd}). */
export interface PodAddPlan {
  readonly wiring: PodWiring;
  /** Lines of the pod-side batch (run without `-force`). */
  readonly podOps: readonly BatchOp[];
  /** Runs first in the pod-side process. */
  readonly podPrelude: Prelude;
  /** Lines of the host-side batch (run with `-force`). */
  readonly hostOps: readonly BatchOp[];
  /** Host sysctls, written before the host-side batch. */
  readonly hostSysctls: readonly SysctlEntry[];
}

/** The rule 1535 of a pod IP. */
export function podRule(podIP: string): RuleSpec {
  return { priority: POD_RULE_PRIORITY, dst: `${podIP}/32`, table: RouteTable.main };
}

function checkSpec(spec: PodWiringSpec): void {
  if (spec.podNetns.kind !== 'path') throw new InvalidArgumentError('podNetns', spec.podNetns, 'must be a path');
  validateIfName(spec.ifName, 'ifName');
  validateIfName(spec.hostVeth, 'hostVeth');
  assertIPv4('podIP', spec.podIP);
  if (spec.proxyArpDev !== undefined) validateIfName(spec.proxyArpDev, 'proxyArpDev');
}

/**
 * The pod-side prelude: `default` rp_filter 0 before the link exists, so the new interface inherits 0
 * without another process.
 */
export const POD_PRELUDE: Prelude = {
  script: `echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter || echo "${PRELUDE_MARKER}cannot set default rp_filter" >&2`,
  args: [],
};

/** Plans an ADD (pure, apart from picking random MACs when none are given). */
export function planPodAdd(spec: PodWiringSpec): PodAddPlan {
  checkSpec(spec);
  const hostNetns = spec.hostNetns ?? CURRENT_NETNS;
  const mtu = spec.mtu ?? DEFAULT_MTU;
  const hostMac = checkMac('hostMac', spec.hostMac ?? randomMac());
  const podMac = checkMac('podMac', spec.podMac ?? randomMac());
  const { ifName, hostVeth, podIP, proxyArpDev } = spec;
  const podOps: BatchOp[] = [
    vethAddOp({ name: ifName, mtu, mac: podMac, peerName: hostVeth, peerMac: hostMac, peerNetns: hostNetns }),
    linkSetOp(ifName, { up: true }),
    addrReplaceOp({ cidr: `${podIP}/32`, dev: ifName }),
    neighReplaceOp({ ip: POD_GATEWAY, lladdr: hostMac, dev: ifName }),
    routeReplaceOp({ dst: `${POD_GATEWAY}/32`, dev: ifName, scope: 'link' }),
    routeReplaceOp({ dst: 'default', gateway: POD_GATEWAY, dev: ifName, src: podIP }),
  ];
  const hostOps: BatchOp[] = [
    linkSetOp(hostVeth, { up: true }),
    routeReplaceOp({ dst: `${podIP}/32`, dev: hostVeth, scope: 'link' }),
    ruleAddOp(podRule(podIP)),
  ];
  const hostSysctls = [
    confSysctl(4, hostVeth, 'rp_filter', 0),
    confSysctl(6, hostVeth, 'accept_ra', 0),
    ipForwardSysctl(1),
  ];
  if (proxyArpDev !== undefined) {
    hostOps.push(proxyNeighReplaceOp({ ip: podIP, dev: proxyArpDev }));
    hostSysctls.push(proxyDelaySysctl(proxyArpDev));
  }
  return {
    wiring: { podNetns: spec.podNetns, hostNetns, ifName, hostVeth, podIP, mtu, hostMac, podMac, ...(proxyArpDev === undefined ? {} : { proxyArpDev }) },
    podOps,
    podPrelude: POD_PRELUDE,
    hostOps,
    hostSysctls,
  };
}

/** Options of {@link wirePod}. */
export interface WirePodOptions extends ExecOptions {
  /**
   * What to do when a host link named `hostVeth` already exists (a leftover, or the veth of an older sandbox
   * of the same pod): true (default) deletes it and retries once, false fails with ExistsError, a function
   * decides per link.
   */
  readonly replaceHostLink?: boolean | ((existing: Link) => boolean | Promise<boolean>) | undefined;
}

async function mayReplace(option: WirePodOptions['replaceHostLink'], link: Link): Promise<boolean> {
  if (option === undefined || option === true) return true;
  if (option === false) return false;
  return option(link);
}

/**
 * Builds the pod's dataplane: two processes on the fast path. On failure everything it created is removed
 * again before the error is thrown.
 * @throws ExistsError when `ifName` already exists in the pod; NetnsGoneError when the pod netns is gone.
 */
export async function wirePod(spec: PodWiringSpec, options?: WirePodOptions): Promise<PodWiring> {
  const plan = planPodAdd(spec);
  const { wiring } = plan;
  await assertLiveNetns(wiring.podNetns);
  const podBatch: BatchOptions = { ...options, netns: wiring.podNetns, force: false, prelude: plan.podPrelude };
  let pod = await applyBatch(plan.podOps, podBatch);
  const first = pod.outcomes[0];
  if (first?.status === 'failed' && first.error instanceof ExistsError) {
    // Either the pod already has ifName, or the host already has a link named hostVeth: find out which.
    if (await findLink(wiring.ifName, { ...options, netns: wiring.podNetns })) {
      throw new ExistsError(`container veth name provided (${wiring.ifName}) already exists`, {
        argv: pod.argv,
        line: first.line,
        lineNo: 1,
        kernelMessage: first.error.kernelMessage,
        errno: 'EEXIST',
      });
    }
    const leftover = await findLink(wiring.hostVeth, { ...options, netns: wiring.hostNetns });
    if (!leftover || !(await mayReplace(options?.replaceHostLink, leftover))) throw first.error;
    await deleteLink(wiring.hostVeth, { ...options, netns: wiring.hostNetns });
    pod = await applyBatch(plan.podOps, podBatch);
  }
  if (!pod.ok) {
    if (pod.outcomes[0]?.status === 'ok') await undoPodLink(wiring, options);
    throw pod.error ?? new CommandError('pod-side batch failed', { argv: pod.argv });
  }
  let ruleAdded = false;
  let proxyAdded = false;
  try {
    const current = wiring.hostNetns.kind === 'current';
    if (current) await writeSysctls(plan.hostSysctls, options);
    const host = await applyBatch(plan.hostOps, {
      ...options,
      netns: wiring.hostNetns,
      prelude: current ? undefined : sysctlPrelude(plan.hostSysctls),
    });
    // Only a rule this call created is removed again; `already` means it was there before.
    ruleAdded = host.outcomes.some((o) => o.op.args[0] === 'rule' && o.status === 'ok');
    proxyAdded = host.outcomes.some((o) => o.op.args[0] === 'neigh' && o.status !== 'failed');
    if (!host.ok) throw host.error ?? new CommandError('host-side batch failed', { argv: host.argv });
  } catch (e) {
    await undoPodLink(wiring, options);
    if (ruleAdded) await removeRule(podRule(wiring.podIP), { ...options, netns: wiring.hostNetns }).catch(() => undefined);
    if (proxyAdded && wiring.proxyArpDev !== undefined) {
      const flush = proxyNeighFlushOp({ ip: wiring.podIP, dev: wiring.proxyArpDev });
      await applyBatch([flush], { ...options, netns: wiring.hostNetns }).catch(() => undefined);
    }
    throw e;
  }
  return wiring;
}

/** Rollback helper: deletes the pod end (the host end and its /32 route go with it); never throws. */
async function undoPodLink(wiring: PodWiring, options?: ExecOptions): Promise<void> {
  await applyBatch([linkDelOp(wiring.ifName)], { ...options, netns: wiring.podNetns }).catch(() => undefined);
}

/** What to take down for one pod. Everything is optional except `ifName`: DEL works with what is known. */
export interface PodUnwireSpec {
  /** The pod netns; undefined, vanished or not a netns any more → the pod side is skipped. */
  readonly podNetns?: Netns | undefined;
  readonly hostNetns?: Netns | undefined;
  readonly ifName: string;
  /** The host end; needed to remove a host route through it. */
  readonly hostVeth?: string | undefined;
  /** The pod IP; needed to remove the host route and rule 1535. */
  readonly podIP?: string | undefined;
  /**
   * MAC of the host end as created by ADD. When given, a host link named `hostVeth` with this MAC is deleted
   * too (it survives when the pod netns is held elsewhere); without it a link of that name is left alone,
   * because it may belong to a newer sandbox of the same pod.
   */
  readonly hostMac?: string | undefined;
  /**
   * The pod IP's proxy neighbour entry to remove (with the rule, in the same process; needs `podIP`): `{dev}`
   * removes the entry on that device, `{}` on every device. Absent: proxy entries are left alone.
   */
  readonly proxyArp?: { readonly dev?: string | undefined } | undefined;
}

/** What DEL found and did. */
export interface PodUnwireResult {
  readonly podLink: 'deleted' | 'absent' | 'netns-gone' | 'skipped';
  readonly hostLink: 'deleted' | 'absent' | 'kept' | 'skipped';
  readonly hostRoutes: number;
  readonly rules: number;
  /** Whether the proxy entry removal ran (it does not say whether there was one). */
  readonly proxyArp: 'flushed' | 'skipped';
}

/**
 * Removes what {@link wirePod} built, in two processes run side by side when the pod is there: the pod end is
 * deleted in the pod namespace (the kernel takes the host end, its `/32` route and the pod's addresses and
 * routes with it), and rule 1535 and the proxy neighbour entry go in one host-side batch, without reading the
 * host first. Only when the pod side did not delete the pair (its namespace is gone, or the interface was)
 * is the host read, for a host route through `hostVeth` and a host end that outlived its pod. Missing pieces
 * count as removed.
 *
 * The rule is deleted by its selectors (priority 1535, to `<podIP>/32`, table main): priority 1535 is
 * hostnic's, and a rule with more selectors there is not one anything makes, so no read guards the delete.
 */
export async function unwirePod(spec: PodUnwireSpec, options?: ExecOptions): Promise<PodUnwireResult> {
  validateIfName(spec.ifName, 'ifName');
  if (spec.hostVeth !== undefined) validateIfName(spec.hostVeth, 'hostVeth');
  if (spec.podIP !== undefined) assertIPv4('podIP', spec.podIP);
  if (spec.proxyArp && spec.podIP === undefined) throw new InvalidArgumentError('proxyArp', spec.proxyArp, 'needs podIP');
  const hostNetns = spec.hostNetns ?? CURRENT_NETNS;

  const podSide = async (): Promise<PodUnwireResult['podLink']> => {
    if (!spec.podNetns) return 'skipped';
    if (!(await isLiveNetns(spec.podNetns))) return 'netns-gone';
    try {
      const r = await applyBatchOrThrow([linkDelOp(spec.ifName)], { ...options, netns: spec.podNetns });
      return r.outcomes[0]?.status === 'ok' ? 'deleted' : 'absent';
    } catch (e) {
      if (e instanceof NetnsGoneError) return 'netns-gone';
      throw e;
    }
  };

  // Rule 1535 and the proxy entry do not depend on the pod side: DEL takes about as long as the veth teardown.
  const [podLink, host] = await Promise.all([podSide(), removeHostAddressing(spec, hostNetns, options)]);
  const withLink = spec.hostVeth !== undefined && spec.hostMac !== undefined;
  if (podLink === 'deleted' || spec.hostVeth === undefined) {
    return { podLink, hostLink: podLink === 'deleted' && withLink ? 'absent' : 'skipped', hostRoutes: 0, ...host };
  }
  const { hostLink, hostRoutes } = await removeHostEnd(spec, spec.hostVeth, hostNetns, withLink, options);
  return { podLink, hostLink, hostRoutes, ...host };
}

/** Host side of DEL that needs no read: rule 1535 of the pod IP and its proxy entry, in one batch. */
async function removeHostAddressing(
  spec: PodUnwireSpec,
  hostNetns: Netns,
  options: ExecOptions | undefined,
): Promise<{ rules: number; proxyArp: PodUnwireResult['proxyArp'] }> {
  if (spec.podIP === undefined) return { rules: 0, proxyArp: 'skipped' };
  const ruleOps = [ruleDelOp(podRule(spec.podIP))];
  const proxyOps = spec.proxyArp ? [proxyNeighFlushOp({ ip: spec.podIP, dev: spec.proxyArp.dev })] : [];
  const applied = await applyBatchOrThrow([...ruleOps, ...proxyOps], { ...options, netns: hostNetns });
  const rules = applied.outcomes.filter((o, i) => i < ruleOps.length && o.status === 'ok').length;
  return { rules, proxyArp: proxyOps.length > 0 ? 'flushed' : 'skipped' };
}

/**
 * Host side of DEL when the pod side did not take the pair: reads the host, removes the pod IP's routes through
 * `hostVeth` and, with `hostMac`, the host end itself when its MAC is the one ADD gave it.
 */
async function removeHostEnd(
  spec: PodUnwireSpec,
  hostVeth: string,
  hostNetns: Netns,
  withLink: boolean,
  options: ExecOptions | undefined,
): Promise<{ hostLink: PodUnwireResult['hostLink']; hostRoutes: number }> {
  const commands: string[][] = [];
  if (spec.podIP !== undefined) commands.push(['route', 'show', 'table', 'main', 'exact', `${spec.podIP}/32`]);
  if (withLink) commands.push(['addr', 'show']);
  if (commands.length === 0) return { hostLink: 'skipped', hostRoutes: 0 };
  const outcomes = await readBatch(commands, { ...options, netns: hostNetns });
  const value = (i: number): unknown => {
    const o = outcomes[i];
    if (!o) return [];
    if (!o.ok) throw o.error;
    return o.value;
  };
  const routes = spec.podIP === undefined ? [] : parseRoutes(value(0)).filter((r) => r.dev === hostVeth).map((r) => r.dst);
  let ours = false;
  let hostLink: PodUnwireResult['hostLink'] = 'skipped';
  if (withLink) {
    const link = parseLinks(value(spec.podIP === undefined ? 0 : 1)).find((l) => l.name === hostVeth);
    ours = link !== undefined && sameMac(link.mac, spec.hostMac);
    hostLink = !link ? 'absent' : ours ? 'deleted' : 'kept';
  }
  const ops = routes.map((dst) => routeDelOp({ dst, dev: hostVeth }));
  if (ours) ops.push(linkDelOp(hostVeth));
  if (ops.length === 0) return { hostLink, hostRoutes: 0 };
  const r = await applyBatchOrThrow(ops, { ...options, netns: hostNetns });
  const hostRoutes = r.outcomes.filter((o, i) => i < routes.length && o.status === 'ok').length;
  if (ours && r.outcomes.at(-1)?.status !== 'ok') hostLink = 'absent';
  return { hostLink, hostRoutes };
}

/** What CHECK verifies. */
export interface PodCheckSpec {
  readonly podNetns: Netns;
  readonly hostNetns?: Netns | undefined;
  readonly ifName: string;
  readonly hostVeth: string;
  readonly podIP: string;
  /** Default 1500. */
  readonly mtu?: number | undefined;
  /** Also check the ARP responder entry, in the form ADD installed (present exactly once). */
  readonly arpReply?: Omit<ArpReplyEntry, 'ip'> | undefined;
  /** Also check the proxy neighbour entry on this device (present, with proxy_delay 0). */
  readonly proxyArpDev?: string | undefined;
}

/** The outcome of CHECK. */
export type PodCheckResult =
  | { readonly ok: true }
  | { readonly ok: false; /** The first mismatch. */ readonly mismatch: string; readonly mismatches: readonly string[] };

/** The state CHECK compares (pure input of {@link diffPodState}). */
export interface PodObservedState {
  readonly pod: Snapshot;
  readonly host: Snapshot;
  /** `net.ipv4.conf.<ifName>.rp_filter` in the pod. */
  readonly podRpFilter: string | undefined;
  /** Host: veth rp_filter, veth accept_ra (undefined without IPv6), ip_forward. */
  readonly hostSysctls: readonly (string | undefined)[];
  /** ARP responder entries for the pod IP, when they were read. */
  readonly arpReplies?: readonly ArpReplyEntry[] | undefined;
  /** The host's proxy neighbour entries and the proxy device's proxy_delay, when they were read. */
  readonly proxyArp?: { readonly entries: readonly ProxyNeighbour[]; readonly proxyDelay: string | undefined } | undefined;
}

/** Every mismatch between `state` and what ADD builds, pod side first, then the host (pure). */
export function diffPodState(state: PodObservedState, spec: PodCheckSpec): string[] {
  const problems: string[] = [];
  const mtu = spec.mtu ?? DEFAULT_MTU;
  const { ifName, hostVeth, podIP } = spec;
  const podLink = state.pod.links.find((l) => l.name === ifName);
  const hostLink = state.host.links.find((l) => l.name === hostVeth);
  if (!podLink) problems.push(`pod: interface ${ifName} missing`);
  else {
    if (podLink.kind !== 'veth') problems.push(`pod: ${ifName} is ${podLink.kind ?? 'not'} a veth`);
    if (!podLink.up) problems.push(`pod: ${ifName} is down`);
    if (podLink.mtu !== mtu) problems.push(`pod: ${ifName} mtu ${podLink.mtu}, expected ${mtu}`);
    const v4 = state.pod.addresses.filter((a) => a.ifName === ifName && a.family === 4);
    if (v4.length !== 1 || v4[0]?.cidr !== `${podIP}/32` || v4[0].scope !== 'global') {
      problems.push(`pod: ${ifName} addresses ${v4.map((a) => a.cidr).join(', ') || 'none'}, expected ${podIP}/32 only`);
    }
    const main4 = state.pod.routes.filter((r) => r.family === 4 && r.table === RouteTable.main);
    const gw = main4.find((r) => r.dst === `${POD_GATEWAY}/32` && r.dev === ifName && r.scope === 'link' && !r.gateway);
    const def = main4.find(
      (r) => r.dst === '0.0.0.0/0' && r.gateway === POD_GATEWAY && r.dev === ifName && r.src === podIP && !r.onlink,
    );
    if (!gw) problems.push(`pod: route ${POD_GATEWAY} dev ${ifName} scope link missing`);
    if (!def) problems.push(`pod: route default via ${POD_GATEWAY} dev ${ifName} src ${podIP} missing`);
    if (main4.length !== 2) problems.push(`pod: main table has ${main4.length} IPv4 routes, expected 2`);
    const neigh = state.pod.neighbours.find((n) => n.dst === POD_GATEWAY && n.dev === ifName);
    if (!neigh || !neigh.state.includes('PERMANENT')) problems.push(`pod: permanent neighbour ${POD_GATEWAY} missing`);
    else if (hostLink && !sameMac(neigh.lladdr, hostLink.mac)) {
      problems.push(`pod: neighbour ${POD_GATEWAY} has ${neigh.lladdr ?? 'no MAC'}, host veth has ${hostLink.mac}`);
    }
    if (state.podRpFilter !== '0') problems.push(`pod: ${ifName} rp_filter ${state.podRpFilter ?? 'missing'}, expected 0`);
  }
  if (!hostLink) problems.push(`host: veth ${hostVeth} missing`);
  else {
    if (hostLink.kind !== 'veth') problems.push(`host: ${hostVeth} is not a veth`);
    if (!hostLink.up) problems.push(`host: ${hostVeth} is down`);
    if (hostLink.mtu !== mtu) problems.push(`host: ${hostVeth} mtu ${hostLink.mtu}, expected ${mtu}`);
    if (hostLink.master !== undefined) problems.push(`host: ${hostVeth} is enslaved to ${hostLink.master}`);
    if (podLink && (hostLink.peerIndex !== podLink.index || podLink.peerIndex !== hostLink.index)) {
      problems.push(`host: ${hostVeth} is not the peer of the pod's ${ifName}`);
    }
  }
  const toPod = state.host.routes.filter((r) => r.table === RouteTable.main && r.dst === `${podIP}/32`);
  if (toPod.length !== 1 || toPod[0]?.dev !== hostVeth || toPod[0].scope !== 'link' || toPod[0].gateway) {
    problems.push(`host: route ${podIP} dev ${hostVeth} scope link in main: found ${toPod.map((r) => r.dev ?? '?').join(', ') || 'none'}`);
  }
  const rules = state.host.rules.filter((r) => isExactRule(r, podRule(podIP)));
  if (rules.length !== 1) problems.push(`host: rule ${POD_RULE_PRIORITY} to ${podIP} lookup main present ${rules.length} times`);
  const [rp, ra, fwd] = state.hostSysctls;
  if (rp !== '0') problems.push(`host: ${hostVeth} rp_filter ${rp ?? 'missing'}, expected 0`);
  if (ra !== undefined && ra !== '0') problems.push(`host: ${hostVeth} accept_ra ${ra}, expected 0`);
  if (fwd !== '1') problems.push(`host: ip_forward ${fwd ?? 'missing'}, expected 1`);
  if (spec.arpReply && state.arpReplies) {
    const want: ArpReplyEntry = { ...spec.arpReply, ip: podIP };
    const n = state.arpReplies.filter((e) => sameArpReply(e, want)).length;
    if (n !== 1) problems.push(`host: ebtables arpreply for ${podIP} on ${want.dev} present ${n} times`);
  }
  if (spec.proxyArpDev !== undefined && state.proxyArp) {
    const dev = spec.proxyArpDev;
    if (!state.proxyArp.entries.some((e) => e.ip === podIP && e.dev === dev)) problems.push(`host: proxy neighbour ${podIP} dev ${dev} missing`);
    if (state.proxyArp.proxyDelay !== '0') problems.push(`host: ${dev} proxy_delay ${state.proxyArp.proxyDelay ?? 'missing'}, expected 0`);
  }
  return problems;
}

/** Options of {@link checkPod}. */
export type CheckPodOptions = ExecOptions & Pick<EbtablesOptions, 'ebtables'>;

/** Reads the pod's dataplane back and compares it with what ADD builds (read-only). */
export async function checkPod(spec: PodCheckSpec, options?: CheckPodOptions): Promise<PodCheckResult> {
  validateIfName(spec.ifName, 'ifName');
  validateIfName(spec.hostVeth, 'hostVeth');
  assertIPv4('podIP', spec.podIP);
  const hostNetns = spec.hostNetns ?? CURRENT_NETNS;
  if (!(await isLiveNetns(spec.podNetns))) {
    const m = `pod: ${describeNetns(spec.podNetns)} is gone`;
    return { ok: false, mismatch: m, mismatches: [m] };
  }
  const proxyDev = spec.proxyArpDev;
  const [pod, podRpFilter, host, hostSysctls, arpReplies, proxyArp] = await Promise.all([
    readSnapshot({ ...options, netns: spec.podNetns, parts: ['links', 'addresses', 'routes', 'neighbours'], routeTable: RouteTable.main }),
    readSysctls([confSysctl(4, spec.ifName, 'rp_filter', 0).path], { ...options, netns: spec.podNetns }).then((v) => v[0]),
    readSnapshot({ ...options, netns: hostNetns, parts: ['links', 'routes', 'rules'], routeTable: RouteTable.main }),
    readSysctls(
      [
        confSysctl(4, spec.hostVeth, 'rp_filter', 0).path,
        confSysctl(6, spec.hostVeth, 'accept_ra', 0).path,
        ipForwardSysctl(1).path,
      ],
      { ...options, netns: hostNetns },
    ),
    spec.arpReply ? listArpReplies({ ...options, netns: hostNetns }) : Promise.resolve(undefined),
    proxyDev === undefined
      ? Promise.resolve(undefined)
      : Promise.all([
          listProxyNeighbours({ ...options, netns: hostNetns }),
          readSysctls([proxyDelaySysctl(proxyDev).path], { ...options, netns: hostNetns }).then((v) => v[0]),
        ]).then(([entries, proxyDelay]) => ({ entries, proxyDelay })),
  ]);
  const mismatches = diffPodState({ pod, host, podRpFilter, hostSysctls, arpReplies, proxyArp }, spec);
  const firstMismatch = mismatches[0];
  return firstMismatch === undefined ? { ok: true } : { ok: false, mismatch: firstMismatch, mismatches };
}
