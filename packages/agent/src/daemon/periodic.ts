/** A task repeated every `periodMs`, never overlapping itself; a failure is logged and the next tick tries again. */

export interface Periodic {
  stop(): Promise<void>;
}

export function every(periodMs: number, task: () => Promise<void>, onError: (e: unknown) => void): Periodic {
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
