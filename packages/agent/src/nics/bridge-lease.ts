/**
 * The DHCP lease of a VLAN vxnet's bridge br_N (docs/dataplane.md#per-nic-setup): the original gave br_N an
 * address from the vxnet's DHCP server and renewed it; so does this agent. The lease lives in the NIC record
 * (a restart reuses it rather than asking for a new address), is renewed from T1 (half the lease) for the same
 * address, and goes with the record when the NIC is released. The address carries the lease's remaining
 * lifetime in the kernel, so it lapses by itself if renewals stop. Runs under the vxnet's lock.
 *
 * @packageDocumentation
 */

import { readAddresses, removeAddress } from '@hostnic/netlink';
import { errorText } from '@hostnic/runtime';
import type { BridgeLease, NicRecord } from '../types.ts';
import type { NicContext } from './context.ts';
import { applyLease, releaseLease, requestLease } from './dhcp-client.ts';
import type { DhcpLease } from './dhcp-client.ts';

/** What a bridge's lease needs now (pure: {@link leaseAction}). */
export type LeaseAction =
  | { readonly kind: 'keep' }
  /** The lease is current but the bridge lost the address (a new bridge, a reboot): put it back. */
  | { readonly kind: 'reapply'; readonly remainingSec: number }
  /** No lease, or T1 passed: ask the server, for the same address when there was one. */
  | { readonly kind: 'request'; readonly requestAddress: string | undefined };

function obtainedMs(lease: BridgeLease): number {
  return Date.parse(lease.obtainedAt);
}

/** When a lease is due for renewal: T1, half its time (RFC 2131 4.4.5). */
export function renewAtMs(lease: BridgeLease): number {
  return obtainedMs(lease) + (lease.leaseSec * 1000) / 2;
}

export function leaseAction(lease: BridgeLease | undefined, onBridge: boolean, nowMs: number): LeaseAction {
  if (lease === undefined) return { kind: 'request', requestAddress: undefined };
  if (nowMs >= renewAtMs(lease)) return { kind: 'request', requestAddress: lease.address };
  if (onBridge) return { kind: 'keep' };
  const remainingSec = Math.floor((obtainedMs(lease) + lease.leaseSec * 1000 - nowMs) / 1000);
  return { kind: 'reapply', remainingSec };
}

/**
 * The earliest renewal among the VLAN records' leases (ms since the epoch; 0 for a set-up VLAN NIC whose
 * bridge has no lease yet, which is due now), or undefined when no record needs one.
 */
export function nextRenewalMs(records: readonly NicRecord[]): number | undefined {
  const due = records.flatMap((r) => {
    if (r.vxnet.tunnelType !== 'vlan' || r.phase !== 'Succeeded') return [];
    return [r.dhcpLease === undefined ? 0 : renewAtMs(r.dhcpLease)];
  });
  return due.length === 0 ? undefined : Math.min(...due);
}

function toLease(lease: DhcpLease, nowMs: number): BridgeLease {
  return { address: lease.address, prefixLength: lease.prefixLength, leaseSec: lease.leaseSec, obtainedAt: new Date(nowMs).toISOString() };
}

/**
 * Gives a VLAN record's bridge its leased address, asking the server when the record has no lease or T1
 * passed; other records (and an agent without DHCP) are returned as they are.
 * @returns the record as stored afterwards
 * @throws DhcpError when the server gives no lease (the bridge keeps a still valid address meanwhile)
 */
export async function keepBridgeLease(ctx: NicContext, record: NicRecord): Promise<NicRecord> {
  if (record.vxnet.tunnelType !== 'vlan' || ctx.dhcp === undefined) return record;
  const lease = record.dhcpLease;
  const cidrs = (await readAddresses({ netns: ctx.netns })).filter((a) => a.ifName === record.bridge && a.family === 4).map((a) => a.cidr);
  const cidrOf = (l: { address: string; prefixLength: number }): string => `${l.address}/${l.prefixLength}`;
  const now = ctx.clock.now();
  const action = leaseAction(lease, lease !== undefined && cidrs.includes(cidrOf(lease)), now);
  if (action.kind === 'keep') return record;
  if (action.kind === 'reapply' && lease !== undefined) {
    await applyLease(record.bridge, { ...lease, router: undefined, server: undefined, leaseSec: action.remainingSec }, ctx.netns);
    ctx.log.info('bridge address put back from its stored lease', { nicId: record.nicId, bridge: record.bridge, address: lease.address });
    return record;
  }
  const got = await requestLease({ ifName: record.bridge, netns: ctx.netns, scriptPath: ctx.dhcp.scriptPath, requestAddress: action.kind === 'request' ? action.requestAddress : undefined, command: ctx.dhcp.command });
  await applyLease(record.bridge, got, ctx.netns);
  // A server that moved us to another address: the old one must not linger until it lapses.
  for (const cidr of cidrs) {
    if (cidr !== cidrOf(got)) await removeAddress({ cidr, dev: record.bridge }, { netns: ctx.netns });
  }
  const next: NicRecord = { ...record, dhcpLease: toLease(got, now) };
  await ctx.store.putNic(next);
  ctx.log.info(lease === undefined ? 'bridge address leased by DHCP' : 'bridge DHCP lease renewed', {
    nicId: record.nicId, bridge: record.bridge, address: got.address, leaseSec: got.leaseSec,
  });
  return next;
}

/** {@link keepBridgeLease} that logs a failure instead of throwing: a missing lease never fails NIC setup. */
export async function tryKeepBridgeLease(ctx: NicContext, record: NicRecord): Promise<NicRecord> {
  try {
    return await keepBridgeLease(ctx, record);
  } catch (err) {
    ctx.log.warn('DHCP for a VLAN bridge failed; retried on the next renewal tick', { nicId: record.nicId, bridge: record.bridge, error: errorText(err) });
    return record;
  }
}

/**
 * Gives a VLAN record's lease back to the server (DHCPRELEASE) before its bridge goes, so the address is free
 * at once rather than after the lease time. Best effort: a failure is logged, the release goes on.
 */
export async function releaseBridgeLease(ctx: NicContext, record: NicRecord): Promise<void> {
  const lease = record.dhcpLease;
  if (lease === undefined || ctx.dhcp === undefined) return;
  try {
    await releaseLease({ ifName: record.bridge, netns: ctx.netns, scriptPath: ctx.dhcp.scriptPath, requestAddress: lease.address, command: ctx.dhcp.command });
    ctx.log.info('bridge DHCP lease released', { nicId: record.nicId, bridge: record.bridge, address: lease.address });
  } catch (err) {
    ctx.log.warn('releasing the bridge DHCP lease failed; it lapses at the server by itself', { nicId: record.nicId, address: lease.address, error: errorText(err) });
  }
}
