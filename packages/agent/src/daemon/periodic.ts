/** A task repeated every `periodMs`, never overlapping itself; a failure is logged and the next tick tries again. */

export interface Periodic {
  stop(): Promise<void>;
}

/** setTimeout's largest delay; Node fires a longer one after 1 ms, which would turn a long period into a hot loop. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export function every(periodMs: number, task: () => Promise<void>, onError: (e: unknown) => void): Periodic {
  if (!Number.isFinite(periodMs) || periodMs < 1 || periodMs > MAX_DELAY_MS) {
    throw new RangeError(`every: period must be from 1 to ${MAX_DELAY_MS} ms, got ${periodMs}`);
  }
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task()
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, periodMs);
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
