/** A failpoint for in-process crash tests: the operation stops for good at the step, as a SIGKILL there would. */

import type { Failpoint, FailpointName } from '../src/failpoints.ts';

/** Stops the work for good at `step` (nothing after it runs, no rollback); `reached` resolves when it gets there. */
export function stopAt(step: FailpointName): { failpoint: Failpoint; reached: Promise<void> } {
  let reach = (): void => undefined;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  return {
    reached,
    failpoint: (s) => {
      if (s !== step) return undefined;
      reach();
      return new Promise<void>(() => undefined);
    },
  };
}
