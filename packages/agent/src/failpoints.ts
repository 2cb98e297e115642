/**
 * The agent's failpoints: the named steps where a crash test makes it SIGKILL itself (`HOSTNIC_FAILPOINT=<step>`,
 * the mechanism is the runtime's), so that a restart can be checked to finish or undo what was cut off.
 */
import { failpointFromEnv as failpointOf } from '@hostnic/runtime';
import type { Failpoint as RuntimeFailpoint } from '@hostnic/runtime';

export { UnknownFailpointError, noFailpoint } from '@hostnic/runtime';

/** Every named step, in the order an ADD, a DEL, the NIC work and the spool replay reach them. */
export const FAILPOINTS = [
  'add:intent',
  'add:allocated',
  'add:nic-leased',
  'add:wired',
  'add:recorded',
  'del:intent',
  'del:unwired',
  'del:released',
  'del:record-deleted',
  'nic:created',
  'nic:table-reserved',
  'nic:attached',
  'nic:detached',
  'nic:deleted',
  'idle-release:begun',
  'spool:released',
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];

/** Called at each named step; resolves to go on. */
export type Failpoint = RuntimeFailpoint<FailpointName>;

/** The failpoint `HOSTNIC_FAILPOINT` names, or none; an unknown name throws UnknownFailpointError. */
export function failpointFromEnv(env: Readonly<Record<string, string | undefined>>, kill?: () => void): Failpoint {
  return failpointOf(FAILPOINTS, env, kill);
}
