/**
 * Undoing a NIC this agent no longer wants (a failed creation, a duplicate, an old orphan): detach it
 * from this instance when attached here, then delete it. A 'release-nic' intent stands for the NIC until
 * it is gone, so a crash or a failure here is finished by the next reconcile.
 */

import { isNotFound } from '@hostnic/iaas-client';
import type { Intent } from '../types.ts';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicError } from './errors.ts';
import { describeNic, detachAndWait } from './iaas-ops.ts';

export type DisposeOutcome = 'deleted' | 'gone' | 'elsewhere';

/** Detaches (when attached here) and deletes the NIC; NICs attached to other instances are never touched. */
export async function disposeNic(ctx: NicContext, nicId: string, vxnetId: string, signal?: AbortSignal): Promise<DisposeOutcome> {
  const nic = await describeNic(ctx, nicId, signal);
  if (!nic) return 'gone';
  if (nic.status === 'in-use') {
    if (nic.instanceId !== ctx.instanceId) return 'elsewhere';
    try {
      await detachAndWait(ctx, nicId, vxnetId, signal);
      await ctx.failpoint('nic:detached');
    } catch (err) {
      // Spec 3.7: a detach that finds nothing counts as done.
      if (err instanceof NicError && isNotFound(err.cause)) return 'gone';
      throw err;
    }
  }
  try {
    await ctx.iaas.deleteNics([nicId], signal);
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw new NicError('delete', `delete of NIC ${nicId} failed: ${errorText(err)}`, { nicId, vxnetId, cause: err });
  }
  await ctx.failpoint('nic:deleted');
  return 'deleted';
}

/**
 * disposeNic under a 'release-nic' intent: finished when the NIC is gone (or not ours to touch), left
 * for reconcile otherwise. Never throws: callers are already on a failure path.
 */
export async function disposeJournaled(ctx: NicContext, nicId: string, vxnetId: string, signal?: AbortSignal): Promise<string | undefined> {
  let intent: Intent | undefined;
  try {
    intent = await ctx.store.beginIntent('release-nic', { nicId, vxnetId, instanceId: ctx.instanceId });
    const outcome = await disposeNic(ctx, nicId, vxnetId, signal);
    await ctx.store.finishIntent(intent.id);
    ctx.log.info('disposed of NIC', { nicId, vxnetId, outcome });
    return undefined;
  } catch (err) {
    ctx.log.warn('could not dispose of NIC; reconcile will retry', { nicId, vxnetId, error: errorText(err), intent: intent?.id });
    return errorText(err);
  }
}
