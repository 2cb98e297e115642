/**
 * The idle-NIC release timer. A fixed period of freePeriod released a NIC 1-2 x freePeriod after its last pod
 * (first look marks it, the next releases it); this timer comes back when the next idle NIC falls due, so
 * that a NIC goes at most freePeriod after its last pod left, as in the original.
 */

export interface IdleReleaseTimerOptions {
  /** One pass: releases what is due and says when the next NIC falls due (epoch ms; undefined: none idle). */
  run: () => Promise<number | undefined>;
  /** The longest wait between passes (freePeriod): a NIC that became idle unseen is looked at by then. */
  periodMs: number;
  /** The shortest wait, so that a clock behind the records' timestamps cannot make a hot loop. */
  minDelayMs: number;
  /** The wait before the first pass. */
  firstDelayMs: number;
  now: () => number;
  onError: (e: unknown) => void;
}

/** How long to wait before the next pass (pure). */
export function idleReleaseDelay(now: number, nextDueAt: number | undefined, periodMs: number, minDelayMs: number): number {
  if (nextDueAt === undefined) return periodMs;
  return Math.min(periodMs, Math.max(minDelayMs, nextDueAt - now));
}

/** Starts the timer; `stop()` cancels the next pass and waits for one in progress. */
export function startIdleReleaseTimer(o: IdleReleaseTimerOptions): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = o
        .run()
        .then(
          (nextDueAt) => idleReleaseDelay(o.now(), nextDueAt, o.periodMs, o.minDelayMs),
          (e: unknown) => {
            o.onError(e);
            return o.periodMs;
          },
        )
        .then((next) => {
          running = undefined;
          schedule(next);
        });
    }, delayMs);
  };
  schedule(o.firstDelayMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
