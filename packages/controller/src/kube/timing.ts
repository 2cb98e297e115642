/**
 * Exponential backoff with "equal jitter": half fixed, half random, so that replicas that failed
 * together do not retry in lockstep while a retry never comes sooner than half the nominal delay.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(baseMs * 2 ** Math.min(attempt, 52), maxMs);
  return nominal / 2 + random() * (nominal / 2);
}

/**
 * Waits `ms`, or less when the signal aborts; resolves whether the full time passed. The timer is
 * cleared on abort, so an aborted wait leaves nothing behind that keeps the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
