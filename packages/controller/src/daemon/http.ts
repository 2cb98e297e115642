/**
 * The controller's HTTP port: `/metrics` (Prometheus), `/healthz` (the process loop is alive), `/readyz`
 * (caches synced), `/status` (JSON introspection: leadership, queues, last results). Read-only, no secrets.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';

export interface HttpSources {
  metrics(): string;
  healthy(): boolean;
  ready(): boolean;
  status(): unknown;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(port: number, host: string | undefined, sources: HttpSources): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type }).end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      switch (path) {
        case '/metrics':
          send(200, 'text/plain; version=0.0.4; charset=utf-8', sources.metrics());
          return;
        case '/healthz':
          if (sources.healthy()) send(200, 'text/plain', 'ok\n');
          else send(503, 'text/plain', 'unhealthy\n');
          return;
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
    } catch (e) {
      send(500, 'text/plain', `${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
