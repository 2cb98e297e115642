/**
 * Releasing an idle NIC (docs/dataplane.md#per-nic-setup): host cleanup, detach with the job
 * waited for (bounded), delete; ResourceNotFound counts as done. A failure leaves the record in phase Init
 * with lastError, still counted and still ours, so the next release or repair picks it up.
 * Runs under the vxnet's lock.
 */

import type { NicRecord } from '../types.ts';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicError } from './errors.ts';
import { releaseBridgeLease } from './bridge-lease.ts';
import { cleanupHost, specOf } from './host.ts';
import { disposeNic } from './rollback.ts';
import type { DisposeOutcome } from './rollback.ts';

export type ReleaseResult =
  | { released: true; nicId: string; outcome: DisposeOutcome }
  | { released: false; nicId: string; reason: 'unknown' | 'has-pods' | 'failed'; error?: string };

export async function releaseRecord(ctx: NicContext, record: NicRecord, signal?: AbortSignal): Promise<ReleaseResult> {
  const { nicId } = record;
  const pods = await ctx.store.podsOnNic(nicId);
  if (pods.length > 0) return { released: false, nicId, reason: 'has-pods' };
  const intent = await ctx.store.beginIntent('release-nic', { nicId, vxnetId: record.vxnet.vxnetId, instanceId: ctx.instanceId });
  try {
    await ctx.failpoint('idle-release:begun');
    const outcome = await finishRelease(ctx, record, intent.id, signal);
    return { released: true, nicId, outcome };
  } catch (err) {
    const error = errorText(err);
    ctx.log.warn('NIC release failed', { nicId, error });
    try {
      await ctx.store.putNic({ ...record, phase: 'Init', lastError: error });
      // The record keeps the NIC ours; the intent would only make reconcile delete what the record keeps.
      await ctx.store.finishIntent(intent.id);
    } catch (storeErr) {
      ctx.log.error('could not record a failed release', { nicId, error: errorText(storeErr) });
    }
    return { released: false, nicId, reason: 'failed', error };
  }
}

/**
 * The release of a recorded NIC, from wherever it was: host cleanup, detach, delete, then the record and the
 * intent. Reconcile calls it for a release a crash cut off, so the NIC is not attached again.
 */
export async function finishRelease(ctx: NicContext, record: NicRecord, intentId: string, signal?: AbortSignal): Promise<DisposeOutcome> {
  const { nicId } = record;
  await releaseBridgeLease(ctx, record);
  await cleanupHost(ctx, specOf(record));
  const outcome = await disposeNic(ctx, nicId, record.vxnet.vxnetId, signal);
  if (outcome === 'elsewhere') ctx.log.warn('released NIC is attached to another instance; left alone', { nicId });
  await ctx.store.deleteNic(nicId);
  await ctx.store.finishIntent(intentId);
  ctx.log.info('NIC released', { nicId, vxnetId: record.vxnet.vxnetId, outcome });
  return outcome;
}

/**
 * The record's NIC no longer exists in the IaaS: without pods the record (and its host state) goes, so the
 * vxnet can get a new NIC; with pods it stays in Init, since dropping it would orphan their entries.
 */
export async function dropVanished(ctx: NicContext, record: NicRecord): Promise<void> {
  const pods = await ctx.store.podsOnNic(record.nicId);
  if (pods.length > 0) {
    const error = `NIC ${record.nicId} of ${record.vxnet.vxnetId} no longer exists in the IaaS but ${pods.length} pod(s) still use it`;
    await ctx.store.putNic({ ...record, phase: 'Init', lastError: error });
    throw new NicError('describe', error, { nicId: record.nicId, vxnetId: record.vxnet.vxnetId });
  }
  try {
    await cleanupHost(ctx, specOf(record));
  } catch (err) {
    ctx.log.warn('host cleanup of a vanished NIC failed', { nicId: record.nicId, error: errorText(err) });
  }
  await ctx.store.deleteNic(record.nicId);
  ctx.log.warn('NIC vanished from the IaaS; record dropped', { nicId: record.nicId, vxnetId: record.vxnet.vxnetId });
}
