/**
 * The node-local sweep (what the original's `ipam-check` did by hand): kernel objects of the dataplane that
 * look like ours but belong to no record and no open intent. Only objects of our own shape are considered:
 * host veths named `<prefix>` + 11 hex digits, rules `1535: from all to <ip>/32 lookup main`, arpreply
 * entries answering with the MAC of one of our NICs (earlier releases), proxy neighbour entries on the bridge of
 * one of our NICs, route tables from the base up that a rule 1536 looks up
 * or whose routes go through a `br_`/`hostnic_` link, and `br_<N>` bridges from the base up with no port of a
 * recorded NIC. One is removed only when two looks in a row found it orphaned. Pure: the service reads the
 * kernel and the store, and does the removals.
 */

import { NIC_RULE_PRIORITY } from '@hostnic/netlink';
import type { Intent, NicRecord, PodRecord } from '../types.ts';
import { journaledPods } from './journal.ts';

export type OrphanKind = 'veth' | 'rule' | 'arp-reply' | 'proxy-arp' | 'table' | 'bridge';

export interface Orphan {
  readonly kind: OrphanKind;
  /** The veth or bridge name, the IP of the rule or ARP answer, or the route table's number. */
  readonly key: string;
  /** The bridge of a proxy entry (the same IP may be on several). */
  readonly dev?: string;
}

/** One orphan's identity across looks. */
export function orphanId(o: Orphan): string {
  return o.dev === undefined ? `${o.kind}:${o.key}` : `${o.kind}:${o.key}@${o.dev}`;
}

/** Links our tables route through: bridges `br_<N>` and NICs `hostnic_<vxnet>`. */
const OUR_TABLE_DEV = /^(br_\d+|hostnic_.+)$/;

/** What the sweep saw in the node's namespace. */
export interface KernelView {
  readonly vethNames: readonly string[];
  /** Destinations (without /32) of the rules at priority 1535 that look up main. */
  readonly ruleIps: readonly string[];
  readonly arpReplies: readonly { readonly ip: string; readonly mac: string }[];
  /** Proxy neighbour entries (the pods' ARP answers). */
  readonly proxyArps: readonly { readonly ip: string; readonly dev: string }[];
  /** Rules that look up a table (any priority; the sweep keeps those at 1536). */
  readonly tableRules?: readonly { readonly priority: number; readonly table: number; readonly src?: string | undefined }[];
  /** Routes of tables other than main/local/default: their table and device. */
  readonly tableRoutes?: readonly { readonly table: number; readonly dev?: string | undefined }[];
  /** Bridges with the names of their ports. */
  readonly bridges?: readonly { readonly name: string; readonly ports: readonly string[] }[];
}

/** What the agent owns: read after the kernel, so an object made after its intent is never missed. */
export interface OwnedView {
  readonly pods: readonly PodRecord[];
  readonly nics: readonly NicRecord[];
  readonly intents: readonly Intent[];
  /** Route tables the store holds: bound to a NIC record or reserved for one being made. */
  readonly tables?: readonly { readonly table: number }[];
}

export interface SweepShape {
  /** Host veth names are this prefix + 11 hex digits (default `vnic`). */
  readonly vethPrefix?: string;
  /** Our route tables and `br_<N>` bridges start here (default 260). */
  readonly routeTableBase?: number;
}

export function orphansOf(kernel: KernelView, owned: OwnedView, shape: SweepShape = {}): Orphan[] {
  const vethPrefix = shape.vethPrefix ?? 'vnic';
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
  const ourBridges = new Set(owned.nics.map((n) => n.bridge));
  for (const p of kernel.proxyArps) if (ourBridges.has(p.dev) && !ips.has(p.ip)) found.push({ kind: 'proxy-arp', key: p.ip, dev: p.dev });
  found.push(...nicOrphansOf(kernel, owned, shape.routeTableBase ?? 260));
  return found;
}

/** Tables and bridges of our range that no NIC record, table reservation or NIC intent holds. */
function nicOrphansOf(kernel: KernelView, owned: OwnedView, base: number): Orphan[] {
  const tables = new Set<number>(owned.nics.map((n) => n.routeTable));
  for (const t of owned.tables ?? []) tables.add(t.table);
  for (const i of owned.intents) {
    const t = i.data['table'] ?? i.data['routeTable'];
    if (typeof t === 'number') tables.add(t);
  }
  const nicLinks = new Set(owned.nics.map((n) => n.linkName));
  const bridges = new Set(owned.nics.map((n) => n.bridge));
  for (const t of tables) bridges.add(`br_${t}`);

  const seenTables = new Set<number>();
  for (const r of kernel.tableRules ?? []) if (r.priority === NIC_RULE_PRIORITY && r.table >= base) seenTables.add(r.table);
  for (const r of kernel.tableRoutes ?? []) if (r.table >= base && r.dev !== undefined && OUR_TABLE_DEV.test(r.dev)) seenTables.add(r.table);
  const found: Orphan[] = [];
  for (const t of [...seenTables].sort((a, b) => a - b)) if (!tables.has(t)) found.push({ kind: 'table', key: String(t) });
  for (const b of kernel.bridges ?? []) {
    const n = /^br_(\d+)$/.exec(b.name)?.[1];
    // A bridge holding a recorded NIC is in use whatever its number (an adopted layout may differ).
    if (n === undefined || Number(n) < base || bridges.has(b.name) || b.ports.some((p) => nicLinks.has(p))) continue;
    found.push({ kind: 'bridge', key: b.name });
  }
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
