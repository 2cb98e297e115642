/**
 * Bringing an existing record's NIC back to Succeeded:
 * the host state is verified on every call (setupHostNic reads, plans and verifies), a missing link leads
 * to the IaaS view, an available NIC is re-attached with a bounded wait, and "in-use" on this very
 * instance is not mistaken for "attached elsewhere". A repair that changed the host state may have re-created
 * the bridge, which drops its proxy neighbour entries: the NIC's recorded pods get theirs back. Runs under the
 * vxnet's lock.
 */

import { NotFoundError, ensureProxyNeighbours } from '@hostnic/netlink';
import type { PodServiceRecord } from '../pods/records.ts';
import type { NicRecord } from '../types.ts';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicElsewhereError, NicError } from './errors.ts';
import { tryKeepBridgeLease } from './bridge-lease.ts';
import { failedPhase, setupHost, specOf } from './host.ts';
import { attachAndWait, describeNic } from './iaas-ops.ts';
import { waitForLink } from './wait-link.ts';

export type RepairOutcome =
  | { kind: 'ok'; record: NicRecord; changed: boolean; reattached: boolean }
  /** The NIC no longer exists in the IaaS. */
  | { kind: 'gone'; record: NicRecord };

async function markFailed(ctx: NicContext, record: NicRecord, err: unknown): Promise<void> {
  const phase = await failedPhase(ctx, specOf(record));
  const failed: NicRecord = { ...record, phase: phase === 'Succeeded' ? 'Init' : phase, lastError: errorText(err) };
  try {
    await ctx.store.putNic(failed);
  } catch (storeErr) {
    ctx.log.error('could not record a NIC failure', { nicId: record.nicId, error: errorText(storeErr) });
  }
}

async function bringBackLink(ctx: NicContext, record: NicRecord, signal?: AbortSignal): Promise<'attached' | 'gone' | 'present'> {
  const nic = await describeNic(ctx, record.nicId, signal);
  if (!nic) return 'gone';
  const vxnetId = record.vxnet.vxnetId;
  if (nic.status === 'in-use') {
    if (nic.instanceId !== ctx.instanceId) throw new NicElsewhereError(record.nicId, nic.instanceId, vxnetId);
    // Attached here but the link is not visible (yet): wait for it, bounded.
    await waitForLink(ctx, record.nicId, vxnetId, signal);
    return 'present';
  }
  const intent = await ctx.store.beginIntent('attach-nic', { nicId: record.nicId, vxnetId, instanceId: ctx.instanceId });
  try {
    await attachAndWait(ctx, record.nicId, vxnetId, signal);
    await waitForLink(ctx, record.nicId, vxnetId, signal);
  } finally {
    // The record names the NIC; a later reconcile re-attaches it again if this failed.
    await ctx.store.finishIntent(intent.id);
  }
  return 'attached';
}

/**
 * The proxy entries of the NIC's pods whose ARP answer is one (records of other writers, without a form, count:
 * their DEL removes both forms by IP), on the NIC's current bridge.
 */
export function proxyEntriesOf(pods: readonly PodServiceRecord[], bridge: string): { ip: string; dev: string }[] {
  return pods.filter((p) => p.arpMatch === undefined || p.arpMatch === 'proxy').map((p) => ({ ip: p.ip, dev: bridge }));
}

async function restoreProxyEntries(ctx: NicContext, record: NicRecord): Promise<number> {
  const pods = (await ctx.store.podsOnNic(record.nicId)) as PodServiceRecord[];
  const entries = proxyEntriesOf(pods, record.bridge);
  await ensureProxyNeighbours(entries, { netns: ctx.netns });
  return entries.length;
}

export async function repairNic(ctx: NicContext, record: NicRecord, signal?: AbortSignal): Promise<RepairOutcome> {
  let reattached = false;
  try {
    let result;
    try {
      result = await setupHost(ctx, specOf(record));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const link = await bringBackLink(ctx, record, signal);
      if (link === 'gone') return { kind: 'gone', record };
      reattached = link === 'attached';
      result = await setupHost(ctx, specOf(record));
    }
    const healthy = record.phase === 'Succeeded' && record.lastError === undefined;
    let next: NicRecord = { ...record, phase: 'Succeeded' };
    delete next.lastError;
    if (!healthy) await ctx.store.putNic(next);
    next = await tryKeepBridgeLease(ctx, next);
    if (result.changed || reattached) {
      // Counted before the records are read: an ADD whose record comes later than this read sees the count move.
      ctx.hostChanges.set(record.nicId, (ctx.hostChanges.get(record.nicId) ?? 0) + 1);
      const proxyEntries = await restoreProxyEntries(ctx, next);
      ctx.log.info('NIC host state repaired', { nicId: record.nicId, actions: result.actions, proxyEntries });
    }
    return { kind: 'ok', record: next, changed: result.changed || reattached, reattached };
  } catch (err) {
    await markFailed(ctx, record, err);
    if (err instanceof NicError) throw err;
    throw new NicError('setup', `repair of NIC ${record.nicId} (${record.vxnet.vxnetId}, table ${record.routeTable}) failed: ${errorText(err)}`, {
      nicId: record.nicId,
      vxnetId: record.vxnet.vxnetId,
      cause: err,
    });
  }
}
