/**
 * DEL without the agent: the plugin takes the pod's interface down itself so that the pod can terminate,
 * and removes the host pieces that route to it. Everything is best-effort; what is left
 * over, the agent finishes when it replays the spooled release.
 *
 * Runs in the node's network namespace (the plugin's own), through @hostnic/netlink, which is loaded only
 * on this path.
 */

import type { Netns, Route } from '@hostnic/netlink';
import { RouteTable, netnsAtPath, readRoutes, removeArpReplies, unwirePod } from '@hostnic/netlink';

export interface LocalCleanupSpec {
  /** CNI_NETNS; empty when the runtime no longer has it. */
  netns: string;
  ifName: string;
  /** Host end of the veth, when the pod (or prevResult) names it. */
  hostVeth: string | undefined;
  /** Its MAC from prevResult: lets the host end go even when the pod netns is held elsewhere. */
  hostMac: string | undefined;
  /** From prevResult; otherwise looked up from the /32 route through hostVeth. */
  podIp: string | undefined;
  /** The lock file shared with the agent around ebtables. */
  lockPath: string;
  /** Bound on each command. */
  timeoutMs: number;
}

export interface LocalCleanupReport {
  podIp: string | undefined;
  podLink: string;
  hostLink: string;
  hostRoutes: number;
  rules: number;
  arpReplies: number;
  /** Set when rule 1535 and the ARP entry were left alone because another pod routes that IP now. */
  ipInUseBy: string | undefined;
  errors: string[];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function hostRoutesTo(routes: readonly Route[], ip: string): Route[] {
  return routes.filter((r) => r.family === 4 && r.dst === `${ip}/32`);
}

export async function cleanupLocally(spec: LocalCleanupSpec): Promise<LocalCleanupReport> {
  const exec = { timeoutMs: spec.timeoutMs };
  const report: LocalCleanupReport = {
    podIp: spec.podIp,
    podLink: 'skipped',
    hostLink: 'skipped',
    hostRoutes: 0,
    rules: 0,
    arpReplies: 0,
    ipInUseBy: undefined,
    errors: [],
  };

  // The IP is read from the host route before the veth, and that route with it, disappears.
  if (report.podIp === undefined && spec.hostVeth !== undefined) {
    try {
      const routes = await readRoutes({ ...exec, table: RouteTable.main });
      const mine = routes.find((r) => r.family === 4 && r.dev === spec.hostVeth && r.dst.endsWith('/32'));
      report.podIp = mine?.dst.split('/')[0];
    } catch (e) {
      report.errors.push(`reading host routes: ${message(e)}`);
    }
  }

  let podNetns: Netns | undefined;
  if (spec.netns !== '') {
    try {
      podNetns = netnsAtPath(spec.netns);
    } catch (e) {
      report.errors.push(`CNI_NETNS: ${message(e)}`);
    }
  }
  try {
    const r = await unwirePod({ podNetns, ifName: spec.ifName, hostVeth: spec.hostVeth, hostMac: spec.hostMac }, exec);
    report.podLink = r.podLink;
    report.hostLink = r.hostLink;
  } catch (e) {
    report.errors.push(`removing the pod interface: ${message(e)}`);
  }

  const ip = report.podIp;
  if (ip === undefined) return report;
  // Rule 1535 and the ARP entry name only the IP. If another pod on this node routes that IP now (a stale
  // DEL after the address was reused), they are that pod's and stay.
  try {
    const routes = await readRoutes({ ...exec, table: RouteTable.main });
    const other = hostRoutesTo(routes, ip).find((r) => r.dev !== undefined && r.dev !== spec.hostVeth);
    if (other) {
      report.ipInUseBy = other.dev;
      return report;
    }
  } catch (e) {
    report.errors.push(`reading host routes: ${message(e)}`);
    return report;
  }
  try {
    // The agent's ARP answer, a proxy entry, goes in the same process as the rule, from any device.
    const r = await unwirePod({ ifName: spec.ifName, hostVeth: spec.hostVeth, podIP: ip, proxyArp: {} }, exec);
    report.hostRoutes = r.hostRoutes;
    report.rules = r.rules;
  } catch (e) {
    report.errors.push(`removing host route, rule 1535 and the proxy ARP entry: ${message(e)}`);
  }
  // An ebtables arpreply is what an earlier release or the Go agent installed.
  try {
    const r = await removeArpReplies({ ip }, { ...exec, lockPath: spec.lockPath, lockTimeoutMs: spec.timeoutMs });
    report.arpReplies = r.deleted;
  } catch (e) {
    report.errors.push(`removing the ebtables ARP entry: ${message(e)}`);
  }
  return report;
}
