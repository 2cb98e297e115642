/**
 * The controller's HTTP port: `/metrics` (Prometheus), `/healthz` (its loops are alive), `/readyz` (caches
 * synced), `/status` (JSON introspection: leadership, queues, last results). Read-only, no secrets.
 */
import { createServer } from 'node:http';
import { listen, probeReply, readOnlyHandler } from '@hostnic/runtime';
import type { Listening, Metrics } from '@hostnic/runtime';

export interface HttpSources {
  readonly metrics: Metrics;
  /** undefined when healthy, else what is wrong. */
  unhealthy(): string | undefined;
  ready(): boolean;
  status(): unknown;
}

export function startHttpServer(port: number, host: string | undefined, sources: HttpSources): Promise<Listening> {
  const server = createServer(readOnlyHandler({
    '/metrics': () => sources.metrics.reply(),
    '/healthz': () => probeReply(sources.unhealthy()),
    '/readyz': () => probeReply(sources.ready() ? undefined : 'caches not synced'),
    '/status': () => ({ status: 200, type: 'application/json', body: `${JSON.stringify(sources.status(), null, 2)}\n` }),
  }));
  return listen(server, { port, host });
}
