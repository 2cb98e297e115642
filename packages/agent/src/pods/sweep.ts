/**
 * The node-local sweep (what the original's `ipam-check` did by hand): kernel objects of the pod dataplane that
 * look like ours but belong to no record and no open intent. Only objects of our own shape are considered:
 * host veths named `<prefix>` + 11 hex digits, rules `1535: from all to <ip>/32 lookup main`, and arpreply
 * entries answering with the MAC of one of our NICs (earlier releases), proxy neighbour entries on the bridge of
 * one of our NICs. One is removed only when two looks in a row found it orphaned. Pure: the service reads the kernel and the store, and does the removals.
 */

import type { Intent, NicRecord, PodRecord } from '../types.ts';
import { journaledPods } from './journal.ts';

export type OrphanKind = 'veth' | 'rule' | 'arp-reply' | 'proxy-arp';

export interface Orphan {
  readonly kind: OrphanKind;
  /** The veth name, or the IP of the rule or ARP answer. */
  readonly key: string;
  /** The bridge of a proxy entry (the same IP may be on several). */
  readonly dev?: string;
}

/** One orphan's identity across looks. */
export function orphanId(o: Orphan): string {
  return o.dev === undefined ? `${o.kind}:${o.key}` : `${o.kind}:${o.key}@${o.dev}`;
}

/** What the sweep saw in the node's namespace. */
export interface KernelView {
  readonly vethNames: readonly string[];
  /** Destinations (without /32) of the rules at priority 1535 that look up main. */
  readonly ruleIps: readonly string[];
  readonly arpReplies: readonly { readonly ip: string; readonly mac: string }[];
  /** Proxy neighbour entries (the pods' ARP answers). */
  readonly proxyArps: readonly { readonly ip: string; readonly dev: string }[];
}

/** What the agent owns: read after the kernel, so an object made after its intent is never missed. */
export interface OwnedView {
  readonly pods: readonly PodRecord[];
  readonly nics: readonly NicRecord[];
  readonly intents: readonly Intent[];
}

export function orphansOf(kernel: KernelView, owned: OwnedView, vethPrefix: string): Orphan[] {
  const veths = new Set<string>();
  const ips = new Set<string>();
  for (const p of owned.pods) {
    veths.add(p.hostVeth);
    ips.add(p.ip);
  }
  for (const j of journaledPods(owned.intents)) {
    if (j.hostVeth !== undefined) veths.add(j.hostVeth);
    for (const ip of j.ips) ips.add(ip);
  }
  // Our NICs' MACs (records and NIC intents): an ARP reply with another MAC is not ours.
  const macs = new Set<string>(owned.nics.map((n) => n.nicId.toLowerCase()));
  for (const i of owned.intents) {
    const nicId = i.data['nicId'];
    if (typeof nicId === 'string') macs.add(nicId.toLowerCase());
  }
  const ourVeth = new RegExp(`^${vethPrefix.replace(/[^A-Za-z0-9_-]/g, '\\$&')}[0-9a-f]{11}$`);
  const found: Orphan[] = [];
  for (const name of kernel.vethNames) if (ourVeth.test(name) && !veths.has(name)) found.push({ kind: 'veth', key: name });
  for (const ip of new Set(kernel.ruleIps)) if (!ips.has(ip)) found.push({ kind: 'rule', key: ip });
  const arpIps = new Set(kernel.arpReplies.filter((a) => macs.has(a.mac.toLowerCase())).map((a) => a.ip));
  for (const ip of arpIps) if (!ips.has(ip)) found.push({ kind: 'arp-reply', key: ip });
  // Our NICs' bridges: a proxy entry on another device is not ours.
  const bridges = new Set(owned.nics.map((n) => n.bridge));
  for (const p of kernel.proxyArps) if (bridges.has(p.dev) && !ips.has(p.ip)) found.push({ kind: 'proxy-arp', key: p.ip, dev: p.dev });
  return found;
}

/** Two looks in a row: an orphan is due when the previous look found it too. */
export class SweepLooks {
  #previous = new Set<string>();

  /** Records this look's orphans; returns those the previous look found as well. */
  observe(orphans: readonly Orphan[]): Orphan[] {
    const due = orphans.filter((o) => this.#previous.has(orphanId(o)));
    this.#previous = new Set(orphans.map(orphanId));
    return due;
  }
}
