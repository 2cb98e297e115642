/**
 * Failpoints: named steps where a crash test stops the agent. With `HOSTNIC_FAILPOINT=<step>` in its
 * environment the agent SIGKILLs itself when it reaches that step, so a test can restart it and check that the
 * journal finishes or undoes what was cut off. Unset (production), reaching a step costs one string compare.
 */

/** Every named step, in the order an ADD, a DEL and the NIC work reach them. */
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
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];

/** Called at each named step; resolves to go on. */
export type Failpoint = (step: FailpointName) => void | Promise<void>;

export const noFailpoint: Failpoint = () => undefined;

export class UnknownFailpointError extends Error {
  override name = 'UnknownFailpointError';
}

/**
 * The failpoint `HOSTNIC_FAILPOINT` names, or none. An unknown name is refused at start: a test that misspells
 * a step would otherwise pass without ever killing anything.
 */
export function failpointFromEnv(env: Readonly<Record<string, string | undefined>>, kill: () => void = () => process.kill(process.pid, 'SIGKILL')): Failpoint {
  const wanted = env['HOSTNIC_FAILPOINT'];
  if (wanted === undefined || wanted === '') return noFailpoint;
  if (!(FAILPOINTS as readonly string[]).includes(wanted)) {
    throw new UnknownFailpointError(`HOSTNIC_FAILPOINT=${wanted} names no step; known: ${FAILPOINTS.join(', ')}`);
  }
  return (step) => {
    if (step === wanted) kill();
  };
}
