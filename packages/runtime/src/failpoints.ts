/**
 * Failpoints: named steps where a crash test stops a daemon. With `HOSTNIC_FAILPOINT=<step>` in its environment
 * the process SIGKILLs itself when it reaches that step, so a test can restart it and check that its next start
 * finishes or undoes what was cut off. Unset (production), reaching a step costs one string compare. Each app
 * lists its own steps; this module is the mechanism they share.
 */

/** The environment variable that names the step. */
export const FAILPOINT_ENV = 'HOSTNIC_FAILPOINT';

/** Called at each named step; resolves to go on. */
export type Failpoint<Step extends string = string> = (step: Step) => void | Promise<void>;

/** Reached steps cost nothing: the production default. */
export const noFailpoint: Failpoint = () => undefined;

export class UnknownFailpointError extends Error {
  override name = 'UnknownFailpointError';
}

/**
 * The failpoint `HOSTNIC_FAILPOINT` names among `steps`, or none. An unknown name is refused at start: a test
 * that misspells a step would otherwise pass without ever killing anything.
 */
export function failpointFromEnv<Step extends string>(
  steps: readonly Step[],
  env: Readonly<Record<string, string | undefined>>,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): Failpoint<Step> {
  const wanted = env[FAILPOINT_ENV];
  if (wanted === undefined || wanted === '') return noFailpoint;
  if (!(steps as readonly string[]).includes(wanted)) {
    throw new UnknownFailpointError(`${FAILPOINT_ENV}=${wanted} names no step; known: ${steps.join(', ')}`);
  }
  return (step) => {
    if (step === wanted) kill();
  };
}
