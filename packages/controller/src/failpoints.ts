/**
 * The controller's failpoints: the named steps between two of its writes where a crash test makes it SIGKILL
 * itself (`HOSTNIC_FAILPOINT=<step>`, the mechanism is the runtime's), so that its next start can be checked to
 * finish or undo what the first write began.
 */
import { failpointFromEnv as failpointOf } from '@hostnic/runtime';
import type { Failpoint as RuntimeFailpoint } from '@hostnic/runtime';

export { UnknownFailpointError, noFailpoint } from '@hostnic/runtime';

/** Every named step, in the order a vxnet's life reaches them. */
export const CONTROLLER_FAILPOINTS = [
  /** AllocateVips submitted for a vxnet's pod range; its job not yet seen done. */
  'vips:submitted',
  /** The vxnet's security-group rule added; ApplySecurityGroup not yet called. */
  'sg-rule:added',
  /** ApplySecurityGroup submitted; its job not yet seen done. */
  'sg-rule:applied',
  /** The vxnet's IPPool created; none of its blocks yet. */
  'ippool:created',
  /** One block of a pool created, the others not. */
  'blocks:partial',
  /** The IPPool's finalizer and labels written; its status not. */
  'ippool:finalizer',
  /** A namespace's block written into hostnic-ipam-config (auto mode); its event and condition not. */
  'mapping:written',
  /** A leaked NIC detached; not yet deleted. */
  'nic-cleanup:detached',
  /** The VIPs of a vxnet that left the pool released; its security-group rule not yet removed. */
  'drain:vips-released',
  /** The IaaS side of a drained vxnet given back; its IPPool not yet deleted. */
  'drain:iaas-released',
  /** The blocks of an IPPool being deleted deleted; its finalizer not yet removed. */
  'ippool:blocks-deleted',
] as const;

export type ControllerFailpointName = (typeof CONTROLLER_FAILPOINTS)[number];

/** Called at each named step; resolves to go on. */
export type ControllerFailpoint = RuntimeFailpoint<ControllerFailpointName>;

/** The failpoint `HOSTNIC_FAILPOINT` names, or none; an unknown name throws UnknownFailpointError. */
export function controllerFailpointFromEnv(env: Readonly<Record<string, string | undefined>>, kill?: () => void): ControllerFailpoint {
  return failpointOf(CONTROLLER_FAILPOINTS, env, kill);
}
