/**
 * The controller's HTTP port: `/metrics` (Prometheus), `/healthz` (its loops are alive), `/readyz` (caches
 * synced), `/status` (JSON introspection: leadership, queues, last results). Read-only, no secrets.
 */
import { listen, probeReply, readOnlyHandler } from '@hostnic/runtime';
import type { Listening, Metrics } from '@hostnic/runtime';

// Not `import ... from 'node:http'`: an ES import of node:http fills its namespace, whose lazy WebSocket
// exports load Node's bundled undici (about 13 MiB resident, measured); the CommonJS object does not.
const { createServer } = process.getBuiltinModule('node:http');

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
