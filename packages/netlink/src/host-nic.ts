/**
 * Host setup of one hostnic NIC and its cleanup (docs/dataplane.md#per-nic-setup): rename to `hostnic_<id>`
 * with the same alias, sysctls, bridge `br_<table>` (proxy_delay 0) holding the NIC, table N routes (two for
 * vxlan, none for vlan) and rule 1536 `from <vxnet> lookup N`.
 *
 * Every call reads the state (one process), computes the difference (pure: {@link planHostNic}), applies it
 * in one batch, and verifies by reading again; a NIC that is already enslaved is still checked in full
 * (the original stopped at the enslaved NIC). Table numbering is the agent's job: a table number is given.
 *
 * @packageDocumentation
 */

import { assertIPv4, checkMac, checkPrefix, ipv4Network, sameMac } from './addr-util.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow } from './batch.ts';
import { CommandError, ExistsError, InvalidArgumentError, NotFoundError } from './errors.ts';
import type { ExecOptions } from './exec.ts';
import { bridgeAddOp, linkDelOp, linkSetOp, renameOps } from './links.ts';
import { bridgeName, nicLinkName, validateIfName } from './names.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS } from './netns.ts';
import type { RouteSpec } from './routes.ts';
import { routeDelOp, routeFlushTableOp, routeMatches, routeReplaceOp } from './routes.ts';
import type { RuleSpec } from './rules.ts';
import { planRuleRemoval, ruleAddOp, ruleDelOp, ruleRemovalOps } from './rules.ts';
import { readSnapshot } from './snapshot.ts';
import type { SysctlEntry } from './sysctl.ts';
import { confSysctl, proxyDelaySysctl, writeSysctls } from './sysctl.ts';
import type { Link, Route, Snapshot } from './types.ts';

/** Priority of the `from <vxnet> lookup N` rule [compat]. */
export const NIC_RULE_PRIORITY = 1536;

/** One hostnic NIC. */
export interface HostNicSpec {
  /** The NIC's MAC (on QingCloud, its id); links are found by it, case-insensitively. */
  readonly mac: string;
  /** The vxnet id (`vxnet-abc1234`); gives the link name `hostnic_abc1234` unless `nicName` is set. */
  readonly vxnetId: string;
  /** Route table N; the bridge is `br_N`. */
  readonly table: number;
  /** The vxnet's network, e.g. `172.22.0.0/24`. */
  readonly network: string;
  /** The vxnet's gateway, e.g. `172.22.0.1`. */
  readonly gateway: string;
  /** `vlan` leaves table N empty; anything else gets the two routes. */
  readonly tunnelType?: string | undefined;
  /** Override the link name. */
  readonly nicName?: string | undefined;
}

interface Resolved {
  readonly mac: string;
  readonly nicName: string;
  readonly bridge: string;
  readonly table: number;
  readonly network: string;
  readonly gateway: string;
  readonly vlan: boolean;
}

function resolve(spec: HostNicSpec): Resolved {
  const network = ipv4Network(checkPrefix('network', spec.network));
  if (network === undefined) throw new InvalidArgumentError('network', spec.network, 'not an IPv4 CIDR');
  assertIPv4('gateway', spec.gateway);
  return {
    mac: checkMac('mac', spec.mac),
    nicName: spec.nicName === undefined ? nicLinkName(spec.vxnetId) : validateIfName(spec.nicName, 'nicName'),
    bridge: bridgeName(spec.table),
    table: spec.table,
    network,
    gateway: spec.gateway,
    vlan: spec.tunnelType === 'vlan',
  };
}

/** The routes table N must hold (none for vlan). */
export function nicTableRoutes(spec: HostNicSpec): RouteSpec[] {
  const r = resolve(spec);
  if (r.vlan) return [];
  return [
    { dst: r.network, dev: r.bridge, scope: 'link', table: r.table },
    { dst: 'default', gateway: r.gateway, dev: r.bridge, table: r.table },
  ];
}

/** Rule 1536 of a NIC. */
export function nicRule(spec: HostNicSpec): RuleSpec {
  const r = resolve(spec);
  return { priority: NIC_RULE_PRIORITY, src: r.network, table: r.table };
}

/** The NIC's sysctls. */
export function nicSysctls(nicName: string): SysctlEntry[] {
  return [
    confSysctl(4, nicName, 'arp_ignore', 1),
    confSysctl(4, 'all', 'rp_filter', 0),
    confSysctl(4, 'default', 'rp_filter', 0),
    confSysctl(4, nicName, 'rp_filter', 0),
    confSysctl(4, 'all', 'accept_local', 1),
    confSysctl(4, 'default', 'accept_local', 1),
    confSysctl(4, nicName, 'accept_local', 1),
  ];
}

/** The NIC among the links: the non-bridge link with the MAC (the bridge shares it once enslaved). */
export function findNicLink(links: readonly Link[], spec: HostNicSpec): Link | undefined {
  const r = resolve(spec);
  const candidates = links.filter((l) => sameMac(l.mac, r.mac) && l.kind !== 'bridge');
  return (
    candidates.find((l) => l.name === r.nicName) ?? candidates.find((l) => l.master === r.bridge) ?? candidates[0]
  );
}

function isTableRoute(route: Route, table: number): boolean {
  return route.family === 4 && route.table === table;
}

/** What {@link planHostNic} decided. */
export interface HostNicPlan {
  readonly ops: readonly BatchOp[];
  /** One line per change, for logs. */
  readonly actions: readonly string[];
}

/**
 * The batch that brings `snapshot` (links, table N routes, rules) to the spec (pure).
 * @throws NotFoundError when no link has the MAC; ExistsError when names are taken by other links.
 */
export function planHostNic(snapshot: Snapshot, spec: HostNicSpec): HostNicPlan {
  const r = resolve(spec);
  const ops: BatchOp[] = [];
  const actions: string[] = [];
  const nic = findNicLink(snapshot.links, spec);
  if (!nic) throw new NotFoundError(`no link with MAC ${r.mac}`, { argv: [], errno: 'ENODEV' });
  const renamed = nic.name !== r.nicName;
  if (renamed) {
    if (snapshot.links.some((l) => l.name === r.nicName)) {
      throw new ExistsError(`cannot rename ${nic.name} to ${r.nicName}: the name is taken`, { argv: [], errno: 'EEXIST' });
    }
    ops.push(...renameOps(nic.name, r.nicName, false));
    actions.push(`rename ${nic.name} to ${r.nicName}`);
  }
  if (nic.alias !== r.nicName) {
    ops.push(linkSetOp(r.nicName, { alias: r.nicName }));
    actions.push(`alias ${r.nicName}`);
  }
  const bridge = snapshot.links.find((l) => l.name === r.bridge);
  if (bridge && bridge.kind !== 'bridge') {
    throw new ExistsError(`link ${r.bridge} exists and is not a bridge`, { argv: [], errno: 'EEXIST' });
  }
  if (!bridge) {
    ops.push(bridgeAddOp(r.bridge, { mac: r.mac }));
    actions.push(`create bridge ${r.bridge}`);
  } else if (!sameMac(bridge.mac, r.mac)) {
    ops.push(linkSetOp(r.bridge, { mac: r.mac }));
    actions.push(`set ${r.bridge} MAC ${r.mac}`);
  }
  if (nic.master !== r.bridge) {
    ops.push(linkSetOp(r.nicName, { master: r.bridge }));
    actions.push(`enslave ${r.nicName} to ${r.bridge}`);
  }
  if (renamed || !nic.up) {
    ops.push(linkSetOp(r.nicName, { up: true }));
    actions.push(`${r.nicName} up`);
  }
  if (!bridge?.up) {
    ops.push(linkSetOp(r.bridge, { up: true }));
    actions.push(`${r.bridge} up`);
  }
  const wanted = nicTableRoutes(spec);
  const have = snapshot.routes.filter((x) => isTableRoute(x, r.table));
  for (const route of have) {
    if (wanted.some((w) => routeMatches(route, w))) continue;
    ops.push(routeDelOp({ dst: route.dst, dev: route.dev, gateway: route.gateway, table: r.table }));
    actions.push(`delete route ${route.dst} from table ${r.table}`);
  }
  for (const w of wanted) {
    if (have.some((route) => routeMatches(route, w))) continue;
    ops.push(routeReplaceOp(w));
    actions.push(`route ${w.dst} ${w.gateway ? `via ${w.gateway} ` : ''}dev ${w.dev ?? ''} table ${r.table}`);
  }
  const rule = nicRule(spec);
  // Stale 1536 rules into our table (the NIC's old network) go, exactly.
  const staleSources = new Set<string>();
  for (const x of snapshot.rules) {
    if (x.priority !== NIC_RULE_PRIORITY || x.table !== r.table || x.src === r.network) continue;
    if (x.src !== undefined && x.dst === undefined && x.extra.length === 0 && x.action === 'lookup') staleSources.add(x.src);
  }
  for (const src of staleSources) {
    ops.push(...ruleRemovalOps(snapshot.rules, { priority: NIC_RULE_PRIORITY, src, table: r.table }));
    actions.push(`delete stale rule from ${src} lookup ${r.table}`);
  }
  const plan = planRuleRemoval(snapshot.rules, rule);
  if (plan.present === 0) {
    ops.push(ruleAddOp(rule));
    actions.push(`rule ${NIC_RULE_PRIORITY} from ${r.network} lookup ${r.table}`);
  } else if (plan.present > 1 && plan.deletable > 1) {
    // Old kernels accepted identical rules twice; keep one.
    const surplus = Math.min(plan.present, plan.deletable) - 1;
    for (let i = 0; i < surplus; i++) ops.push(ruleDelOp(rule));
    actions.push(`delete ${surplus} duplicate rule(s) ${NIC_RULE_PRIORITY}`);
  }
  // Rules of our network into another table (a NIC of this vxnet set up before on another table) go after
  // ours is in place: being older they match first, so removing them before would leave a moment without one.
  for (const table of shadowingTables(snapshot, r)) {
    ops.push(...ruleRemovalOps(snapshot.rules, { priority: NIC_RULE_PRIORITY, src: r.network, table }));
    actions.push(`delete rule from ${r.network} lookup ${table} (ours is table ${r.table})`);
  }
  return { ops, actions };
}

/** Tables other than ours that an exact `1536 from <our network>` rule points at. */
function shadowingTables(snapshot: Snapshot, r: Resolved): number[] {
  const tables = new Set<number>();
  for (const x of snapshot.rules) {
    if (x.priority !== NIC_RULE_PRIORITY || x.src !== r.network || x.table === undefined || x.table === r.table) continue;
    if (x.dst === undefined && x.extra.length === 0 && x.action === 'lookup') tables.add(x.table);
  }
  return [...tables].sort((a, b) => a - b);
}

/** Every way the state differs from the spec (pure; empty when set up). */
export function diffHostNic(snapshot: Snapshot, spec: HostNicSpec): string[] {
  const r = resolve(spec);
  const problems: string[] = [];
  const nic = findNicLink(snapshot.links, spec);
  if (!nic) return [`no link with MAC ${r.mac}`];
  if (nic.name !== r.nicName) problems.push(`NIC is named ${nic.name}, expected ${r.nicName}`);
  if (nic.alias !== r.nicName) problems.push(`NIC alias is ${nic.alias ?? 'unset'}, expected ${r.nicName}`);
  if (!nic.up) problems.push('NIC is down');
  if (nic.master !== r.bridge) problems.push(`NIC master is ${nic.master ?? 'none'}, expected ${r.bridge}`);
  const bridge = snapshot.links.find((l) => l.name === r.bridge);
  if (!bridge || bridge.kind !== 'bridge') problems.push(`bridge ${r.bridge} missing`);
  else {
    if (!bridge.up) problems.push(`bridge ${r.bridge} is down`);
    if (!sameMac(bridge.mac, r.mac)) problems.push(`bridge ${r.bridge} MAC ${bridge.mac}, expected ${r.mac}`);
  }
  const have = snapshot.routes.filter((x) => isTableRoute(x, r.table));
  const wanted = nicTableRoutes(spec);
  for (const w of wanted) {
    if (!have.some((route) => routeMatches(route, w))) problems.push(`table ${r.table}: route ${w.dst} missing`);
  }
  for (const route of have) {
    if (!wanted.some((w) => routeMatches(route, w))) problems.push(`table ${r.table}: unexpected route ${route.dst}`);
  }
  const plan = planRuleRemoval(snapshot.rules, nicRule(spec));
  if (plan.present !== 1) problems.push(`rule ${NIC_RULE_PRIORITY} from ${r.network} lookup ${r.table} present ${plan.present} times`);
  for (const table of shadowingTables(snapshot, r)) problems.push(`rule ${NIC_RULE_PRIORITY} from ${r.network} lookup ${table} is not ours (table ${r.table})`);
  return problems;
}

/** Options of the host NIC functions. */
export interface HostNicOptions extends ExecOptions {
  /** The node namespace; default the current one. */
  readonly netns?: Netns | undefined;
}

/** What setup found and did. */
export interface HostNicResult {
  readonly nic: Link;
  readonly bridge: Link;
  /** Whether anything had to change. */
  readonly changed: boolean;
  readonly actions: readonly string[];
}

async function readNicState(spec: HostNicSpec, options?: HostNicOptions): Promise<Snapshot> {
  return readSnapshot({ ...options, parts: ['links', 'routes', 'rules'], routeTable: spec.table });
}

/**
 * Sets the NIC up for pods (idempotent; verified on every call).
 * @throws NotFoundError when no link has the MAC; CommandError naming what is still wrong afterwards.
 */
export async function setupHostNic(spec: HostNicSpec, options?: HostNicOptions): Promise<HostNicResult> {
  const r = resolve(spec);
  const netns = options?.netns ?? CURRENT_NETNS;
  let snapshot = await readNicState(spec, options);
  const plan = planHostNic(snapshot, spec);
  if (plan.ops.length > 0) {
    await applyBatchOrThrow(plan.ops, { ...options, netns });
    snapshot = await readNicState(spec, options);
  }
  // A re-created bridge starts with the default proxy_delay; its pods' proxy entries must answer at once.
  await writeSysctls([...nicSysctls(r.nicName), proxyDelaySysctl(r.bridge)], { ...options, netns });
  const problems = diffHostNic(snapshot, spec);
  if (problems.length > 0) {
    throw new CommandError(`NIC ${r.mac} is not set up`, { argv: [], kernelMessage: problems.join('; ') });
  }
  const nic = findNicLink(snapshot.links, spec);
  const bridge = snapshot.links.find((l) => l.name === r.bridge);
  if (!nic || !bridge) throw new CommandError(`NIC ${r.mac} vanished during setup`, { argv: [] });
  return { nic, bridge, changed: plan.ops.length > 0, actions: plan.actions };
}

/** What cleanup did. */
export interface HostNicCleanupResult {
  readonly changed: boolean;
  readonly actions: readonly string[];
}

/** The batch that undoes the host setup of a NIC (pure): rule 1536, bridge, table N. */
export function planHostNicCleanup(snapshot: Snapshot, spec: HostNicSpec): HostNicPlan {
  const r = resolve(spec);
  const ops: BatchOp[] = [];
  const actions: string[] = [];
  const ruleOps = ruleRemovalOps(snapshot.rules, nicRule(spec));
  if (ruleOps.length > 0) {
    ops.push(...ruleOps);
    actions.push(`delete rule ${NIC_RULE_PRIORITY} from ${r.network} lookup ${r.table}`);
  }
  if (snapshot.links.some((l) => l.name === r.bridge && l.kind === 'bridge')) {
    ops.push(linkDelOp(r.bridge));
    actions.push(`delete bridge ${r.bridge}`);
  }
  if (snapshot.routes.some((x) => x.table === r.table)) {
    ops.push(routeFlushTableOp(r.table));
    actions.push(`flush table ${r.table}`);
  }
  return { ops, actions };
}

/**
 * Removes rule 1536, bridge br_N (releasing the NIC) and whatever is left in table N (idempotent). The NIC
 * keeps its name until the IaaS detaches it. ARP responder entries naming br_N or the NIC are removed
 * separately (`removeArpReplies({ dev })`, once for each).
 */
export async function cleanupHostNic(spec: HostNicSpec, options?: HostNicOptions): Promise<HostNicCleanupResult> {
  const netns = options?.netns ?? CURRENT_NETNS;
  const snapshot = await readNicState(spec, options);
  const plan = planHostNicCleanup(snapshot, spec);
  await applyBatchOrThrow(plan.ops, { ...options, netns });
  return { changed: plan.ops.length > 0, actions: plan.actions };
}
