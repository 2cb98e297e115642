/**
 * The controller's HTTP port: `/metrics` (Prometheus), `/healthz` (its loops are alive), `/readyz` (caches
 * synced), `/status` (JSON introspection: leadership, queues, last results). Read-only, no secrets.
 */
import { createServer } from 'node:http';
import { errorText, listen } from '@hostnic/runtime';
import type { Listening, Metrics } from '@hostnic/runtime';

export interface HttpSources {
  readonly metrics: Metrics;
  /** undefined when healthy, else what is wrong. */
  unhealthy(): string | undefined;
  ready(): boolean;
  status(): unknown;
}

export async function startHttpServer(port: number, host: string | undefined, sources: HttpSources): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type }).end(req.method === 'HEAD' ? undefined : body);
    };
    const answer = async (): Promise<void> => {
      switch (path) {
        case '/metrics':
          send(200, sources.metrics.contentType, await sources.metrics.render());
          return;
        case '/healthz': {
          const problem = sources.unhealthy();
          if (problem === undefined) send(200, 'text/plain', 'ok\n');
          else send(503, 'text/plain', `${problem}\n`);
          return;
        }
        case '/readyz':
          if (sources.ready()) send(200, 'text/plain', 'ok\n');
          else send(503, 'text/plain', 'caches not synced\n');
          return;
        case '/status':
          send(200, 'application/json', `${JSON.stringify(sources.status(), null, 2)}\n`);
          return;
        default:
          send(404, 'text/plain', '404 page not found\n');
      }
    };
    answer().catch((e: unknown) => send(500, 'text/plain', `${errorText(e)}\n`));
  });
  return listen(server, { port, host });
}
