/**
 * Errors of the pod verbs. Each carries the CNI code the plugin passes on to the runtime: 11 ("try again
 * later") for conditions that go away by themselves, a hostnic code of 100+ (999 for the unexpected) for the rest.
 */

import { IaasError, IaasTransportError, JobTimeoutError } from '@hostnic/iaas-client';
import { MaxRetriesError, StoreUnavailableError } from '@hostnic/ipam';
import { LockTimeoutError, TimeoutError } from '@hostnic/netlink';
import { CniCode } from '@hostnic/protocol';
import { NicTimeoutError } from '../nics/index.ts';
import { errorText } from '@hostnic/runtime';

/** The one table of codes, the protocol's; re-exported for the verbs' callers. */
export { CniCode };

/** The step of a verb a failure happened in; named in the message. */
export type PodStep =
  | 'validate'
  | 'read-pod'
  | 'parse-annotation'
  | 'allocate-ip'
  | 'describe-vxnet'
  | 'ensure-nic'
  | 'wire-pod'
  | 'arp-reply'
  | 'annotate-pod'
  | 'record'
  | 'unwire-pod'
  | 'release-ip'
  | 'check'
  | 'spool';

export class PodError extends Error {
  override name = 'PodError';
  readonly step: PodStep;
  readonly cniCode: number;
  readonly details: string | undefined;

  constructor(step: PodStep, cniCode: number, message: string, options?: { cause?: unknown; details?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.step = step;
    this.cniCode = cniCode;
    this.details = options?.details;
  }

  get transient(): boolean {
    return this.cniCode === CniCode.tryAgain;
  }
}

/** QingCloud ret_codes that mean "busy, retry": 5000 internal, 5100 busy, 5200 lease, 5300 rate limited. */
const IAAS_BUSY = new Set([5000, 5100, 5200, 5300]);

/** Whether a failure goes away by itself (the runtime should retry the verb rather than give up). */
export function isTransient(e: unknown): boolean {
  if (e instanceof PodError) return e.transient;
  if (e instanceof IaasTransportError || e instanceof JobTimeoutError || e instanceof NicTimeoutError) return true;
  if (e instanceof IaasError) return IAAS_BUSY.has(e.retCode);
  if (e instanceof StoreUnavailableError || e instanceof MaxRetriesError) return true;
  if (e instanceof LockTimeoutError || e instanceof TimeoutError) return true;
  // A NIC step wraps the IaaS failure: an unreachable IaaS under it is still a condition that passes.
  if (e instanceof Error && e.cause !== undefined && e.cause !== e) return isTransient(e.cause);
  return false;
}

/**
 * A pod's vxnet has no usable NIC on this node and making one (or looking the vxnet up) failed: names the
 * vxnet, and for an IaaS that does not answer says that only pods of vxnets with a NIC are served meanwhile.
 * The cause stays attached, so `isTransient` still sees what failed.
 */
export class NicUnavailableError extends Error {
  override name = 'NicUnavailableError';
  readonly vxnetId: string;

  constructor(vxnetId: string, cause: unknown) {
    const why = isTransient(cause)
      ? ' and none can be made now (the QingCloud API did not answer; pods of vxnets with a NIC here are still served, this ADD succeeds on a retry once it answers)'
      : '';
    super(`no NIC on this node for vxnet ${vxnetId}${why}: ${errorText(cause)}`, { cause });
    this.vxnetId = vxnetId;
  }
}

/** The runtime's errorText, under the name the pod code uses. */
export const messageOf = errorText;

/** Wraps a failure of `step` as a PodError, transient ones with code 11. */
export function stepError(step: PodStep, fallbackCode: number, e: unknown): PodError {
  if (e instanceof PodError) return e;
  const code = isTransient(e) ? CniCode.tryAgain : fallbackCode;
  return new PodError(step, code, `${step} failed: ${messageOf(e)}`, { cause: e });
}
