/**
 * The agent's TCP port (default 9191): `/metrics`, `/healthz` (the event loop turns and the datastore is
 * open: the liveness probe) and `/readyz` (the daemon's readiness, as the CNI STATUS reports it: the
 * readiness probe, so that a rolling update waits until the new agent serves ADDs).
 */

import { createServer } from 'node:http';
import { listen, probeReply, readOnlyHandler } from '@hostnic/runtime';
import type { Listening, Metrics } from '@hostnic/runtime';

export interface HealthSources {
  readonly metrics: Metrics;
  /** undefined when the datastore is open, else why not. */
  datastoreProblem(): string | undefined;
  /** The daemon's own readiness (never redefined here). */
  readiness(): { ready: boolean; reason?: string | undefined };
}

/** A timer that beats every second; a loop that could not run it for `staleMs` is reported stuck. */
const BEAT_MS = 1000;
const STALE_MS = 10_000;

export async function startMetricsServer(port: number, host: string | undefined, sources: HealthSources): Promise<Listening> {
  let beat = performance.now();
  const heart = setInterval(() => {
    beat = performance.now();
  }, BEAT_MS);
  heart.unref();
  const unhealthy = (): string | undefined => {
    const lag = performance.now() - beat;
    if (lag > STALE_MS) return `event loop stalled: no timer ran for ${Math.round(lag)} ms`;
    return sources.datastoreProblem();
  };
  const server = createServer(readOnlyHandler({
    '/metrics': () => sources.metrics.reply(),
    '/healthz': () => probeReply(unhealthy()),
    '/readyz': () => {
      const r = sources.readiness();
      return probeReply(r.ready ? undefined : (r.reason ?? 'not ready'));
    },
  }));
  const listening = await listen(server, { port, host }).catch((e: unknown) => {
    clearInterval(heart);
    throw e;
  });
  return {
    port: listening.port,
    close: async () => {
      clearInterval(heart);
      await listening.close();
    },
  };
}
