/**
 * Sleeping, backoff and periodic tasks. Node turns a timer above 2^31-1 ms into 1 ms with only a warning,
 * so a period of a month would become a busy loop: every delay here is checked first.
 */

import { InvalidOptionError } from './errors.ts';

/** The largest delay setTimeout honours (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws an InvalidOptionError naming `field` unless `ms` is a finite delay Node can schedule. */
export function checkDelay(field: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidOptionError(field, `must be a delay of 0 ms or more, got ${ms}`);
  if (ms > MAX_TIMER_MS) {
    throw new InvalidOptionError(field, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days; Node runs longer timers after 1 ms), got ${ms}`);
  }
  return ms;
}

/**
 * Waits `ms`, or less when the signal aborts; resolves whether the full time passed. The timer is cleared on
 * abort, so an aborted wait leaves nothing behind that keeps the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  checkDelay('sleep', ms);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with "equal jitter": half fixed, half random, so that replicas that failed together do
 * not retry in lockstep while a retry never comes sooner than half the nominal delay.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(baseMs * 2 ** Math.min(attempt, 52), maxMs);
  return nominal / 2 + random() * (nominal / 2);
}

export interface Periodic {
  /** Resolves once a run in progress has finished; no run starts after it is called. */
  stop(): Promise<void>;
  /** Runs that finished (with or without an error), for health checks and tests. */
  readonly runs: number;
  /** When the last run finished (Date.now()), undefined before the first. */
  readonly lastRunAt: number | undefined;
}

/**
 * Runs `task` every `periodMs` (the first run after one period), never overlapping itself; a failure goes to
 * `onError` and the next tick tries again.
 */
export function every(periodMs: number, task: () => Promise<void>, onError: (e: unknown) => void): Periodic {
  checkDelay('period', periodMs);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let runs = 0;
  let lastRunAt: number | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task()
        .catch(onError)
        .finally(() => {
          runs += 1;
          lastRunAt = Date.now();
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
    get runs() {
      return runs;
    },
    get lastRunAt() {
      return lastRunAt;
    },
  };
}
