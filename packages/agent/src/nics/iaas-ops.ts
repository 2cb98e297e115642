/**
 * Attach and detach with their jobs waited for, within the manager's bound. The client's waitJob already
 * tolerates failed polls; what it throws here is turned into an error naming the NIC and the instance.
 */

import { JobFailedError, JobNotFoundError, JobTimeoutError } from '@hostnic/iaas-client';
import type { Nic } from '@hostnic/iaas-client';
import type { NicContext } from './context.ts';
import { errorText } from '@hostnic/runtime';
import { NicError, NicTimeoutError, seconds } from './errors.ts';

async function waitFor(
  ctx: NicContext,
  what: 'attach' | 'detach',
  jobId: string | undefined,
  nicId: string,
  vxnetId: string,
  signal?: AbortSignal,
): Promise<void> {
  // No job id: the client found the NICs already in the target state after an ambiguous retry.
  if (jobId === undefined) return;
  const preposition = what === 'attach' ? 'to' : 'from';
  try {
    await ctx.iaas.waitJob(jobId, { ...ctx.jobPoll, timeoutMs: ctx.attachTimeoutMs, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof JobTimeoutError) {
      throw new NicTimeoutError(
        what,
        `${what} of NIC ${nicId} ${preposition} ${ctx.instanceId} did not finish within ${seconds(ctx.attachTimeoutMs)} (job ${jobId})`,
        ctx.attachTimeoutMs,
        { nicId, vxnetId, cause: err },
      );
    }
    const how = err instanceof JobFailedError ? 'failed' : err instanceof JobNotFoundError ? 'vanished' : 'could not be followed';
    throw new NicError(what, `${what} of NIC ${nicId} ${preposition} ${ctx.instanceId}: job ${jobId} ${how}: ${errorText(err)}`, {
      nicId,
      vxnetId,
      cause: err,
    });
  }
}

export async function attachAndWait(ctx: NicContext, nicId: string, vxnetId: string, signal?: AbortSignal): Promise<void> {
  let jobId: string | undefined;
  try {
    ({ jobId } = await ctx.iaas.attachNics({ nics: [nicId], instance: ctx.instanceId }, signal));
  } catch (err) {
    throw new NicError('attach', `attach of NIC ${nicId} to ${ctx.instanceId} failed: ${errorText(err)}`, { nicId, vxnetId, cause: err });
  }
  await waitFor(ctx, 'attach', jobId, nicId, vxnetId, signal);
}

export async function detachAndWait(ctx: NicContext, nicId: string, vxnetId: string, signal?: AbortSignal): Promise<void> {
  let jobId: string | undefined;
  try {
    ({ jobId } = await ctx.iaas.detachNics([nicId], signal));
  } catch (err) {
    throw new NicError('detach', `detach of NIC ${nicId} from ${ctx.instanceId} failed: ${errorText(err)}`, { nicId, vxnetId, cause: err });
  }
  await waitFor(ctx, 'detach', jobId, nicId, vxnetId, signal);
}

/** The NIC as the IaaS sees it now, or undefined when it does not exist. */
export async function describeNic(ctx: NicContext, nicId: string, signal?: AbortSignal): Promise<Nic | undefined> {
  try {
    const found = await ctx.iaas.describeNics({ nics: [nicId] }, signal ? { signal } : {});
    return found.find((n) => n.nicId.toLowerCase() === nicId.toLowerCase());
  } catch (err) {
    throw new NicError('describe', `describe of NIC ${nicId} failed: ${errorText(err)}`, { nicId, cause: err });
  }
}
