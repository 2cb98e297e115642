/** Listening and closing for the daemons' HTTP servers (metrics ports, the agent's unix socket). */

import type { RequestListener, Server } from 'node:http';
import { errorText } from './errors.ts';

export interface Listening {
  /** The bound TCP port (the real one when 0 was asked for); undefined on a unix socket. */
  readonly port: number | undefined;
  /** Stops accepting, drops idle and open connections, and resolves once the server is closed. */
  close(): Promise<void>;
}

/** `listen(port, host)` or `listen(path)` as a promise that rejects on EADDRINUSE and the like. */
export async function listen(server: Server, where: { port: number; host?: string | undefined } | { path: string }): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in where) server.listen(where.path, done);
    else server.listen(where.port, where.host, done);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : undefined,
    close: () => closeServer(server),
  };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface Reply {
  readonly status: number;
  /** Default text/plain. */
  readonly type?: string;
  readonly body: string;
}

export type Route = () => Reply | Promise<Reply>;

/** 200 `ok` when there is no problem, else 503 with the problem: a health or readiness probe's answer. */
export function probeReply(problem: string | undefined): Reply {
  return problem === undefined ? { status: 200, body: 'ok\n' } : { status: 503, body: `${problem}\n` };
}

/**
 * A read-only HTTP handler (the daemons' metrics and probe ports): GET and HEAD of the given paths, 405 for
 * other methods, 404 for other paths, 500 with the message when a route throws.
 */
export function readOnlyHandler(routes: Readonly<Record<string, Route>>): RequestListener {
  return (req, res) => {
    const send = (r: Reply): void => {
      res.writeHead(r.status, { 'content-type': r.type ?? 'text/plain' }).end(req.method === 'HEAD' ? undefined : r.body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const route = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (route === undefined) {
      send({ status: 404, body: '404 page not found\n' });
      return;
    }
    Promise.resolve()
      .then(route)
      .then(send, (e: unknown) => send({ status: 500, body: `${errorText(e)}\n` }));
  };
}
