/**
 * The host side of a NIC (docs/dataplane.md#per-nic-setup): setup and cleanup through @hostnic/netlink, the phase a
 * failed setup leaves, and the route tables the kernel already uses.
 */

import { NIC_RULE_PRIORITY, bridgeName, cleanupHostNic, diffHostNic, nicLinkName, readSnapshot, setupHostNic } from '@hostnic/netlink';
import type { HostNicResult, HostNicSpec } from '@hostnic/netlink';
import type { NicPhase, NicRecord, VxnetInfo } from '../types.ts';
import type { NicContext } from './context.ts';

export function hostSpec(nicId: string, vxnet: VxnetInfo, table: number): HostNicSpec {
  return {
    mac: nicId,
    vxnetId: vxnet.vxnetId,
    table,
    network: vxnet.network,
    gateway: vxnet.gateway,
    tunnelType: vxnet.tunnelType,
  };
}

export function specOf(record: NicRecord): HostNicSpec {
  return hostSpec(record.nicId, record.vxnet, record.routeTable);
}

export function newRecord(ctx: NicContext, nicId: string, vxnet: VxnetInfo, table: number, phase: NicPhase): NicRecord {
  const now = new Date(ctx.clock.now()).toISOString();
  return {
    nicId: nicId.toLowerCase(),
    vxnet: { ...vxnet },
    routeTable: table,
    linkName: nicLinkName(vxnet.vxnetId),
    bridge: bridgeName(table),
    phase,
    createdAt: now,
    // A NIC is idle until its first pod is wired; the pod path clears this.
    idleSince: now,
  };
}

/**
 * The phase a failed setup leaves, named after the first thing still wrong (the phase
 * names the step that failed last). Reading the state again is cheaper than parsing the batch's error.
 */
export async function failedPhase(ctx: NicContext, spec: HostNicSpec): Promise<NicPhase> {
  try {
    const snapshot = await readSnapshot({ netns: ctx.netns, parts: ['links', 'routes', 'rules'], routeTable: spec.table });
    const first = diffHostNic(snapshot, spec)[0];
    if (first === undefined) return 'Succeeded';
    if (first.startsWith('no link')) return 'Init';
    if (first.startsWith('NIC is named') || first.startsWith('NIC alias') || first === 'NIC is down') return 'CreateAndAttach';
    if (first.startsWith('table') || first.startsWith('rule')) return 'SetRouteTable';
    return 'JoinBridge';
  } catch {
    return 'Init';
  }
}

export function setupHost(ctx: NicContext, spec: HostNicSpec): Promise<HostNicResult> {
  return setupHostNic(spec, { netns: ctx.netns });
}

export async function cleanupHost(ctx: NicContext, spec: HostNicSpec): Promise<void> {
  await cleanupHostNic(spec, { netns: ctx.netns });
}

/**
 * The table a NIC adopted without a record (e.g. the Go agent's, its LevelDB lost) should keep, or undefined:
 * N of the `br_<N>` that already holds it, else N of a `1536 from <its network> lookup N` rule whose bridge has
 * no port (a setup cut off before the NIC joined). Keeping N leaves no bridge without its port and no rule of
 * the vxnet into a table nothing serves.
 */
export async function adoptableTable(ctx: NicContext, nicId: string, network: string): Promise<number | undefined> {
  const snapshot = await readSnapshot({ netns: ctx.netns, parts: ['links', 'rules'] });
  const tableOf = (bridge: string | undefined): number | undefined => {
    const n = Number(/^br_(\d+)$/.exec(bridge ?? '')?.[1]);
    return Number.isInteger(n) && n >= ctx.routeTableBase ? n : undefined;
  };
  const nic = snapshot.links.find((l) => l.kind !== 'bridge' && l.mac.toLowerCase() === nicId.toLowerCase());
  const enslaved = tableOf(nic?.master);
  if (enslaved !== undefined) return enslaved;
  const portless = new Set(
    snapshot.links.filter((b) => b.kind === 'bridge' && !snapshot.links.some((l) => l.master === b.name)).flatMap((b) => tableOf(b.name) ?? []),
  );
  return snapshot.rules.find((r) => r.priority === NIC_RULE_PRIORITY && r.src === network && r.table !== undefined && portless.has(r.table))?.table;
}

/**
 * Tables >= base that routes, rules or `br_<N>` bridges of the kernel use: a new NIC must not get a table
 * some leftover (a crashed run, another tool) still fills, which the original ignored.
 */
export async function kernelTables(ctx: NicContext): Promise<number[]> {
  const snapshot = await readSnapshot({ netns: ctx.netns, parts: ['links', 'routes', 'rules'] });
  const used = new Set<number>();
  for (const route of snapshot.routes) if (route.table >= ctx.routeTableBase) used.add(route.table);
  for (const rule of snapshot.rules) if (rule.table !== undefined && rule.table >= ctx.routeTableBase) used.add(rule.table);
  for (const link of snapshot.links) {
    const m = /^br_(\d+)$/.exec(link.name);
    if (m?.[1] !== undefined && link.kind === 'bridge') used.add(Number(m[1]));
  }
  return [...used].sort((a, b) => a - b);
}
