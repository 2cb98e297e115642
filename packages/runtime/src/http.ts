/** Listening and closing for the daemons' HTTP servers (metrics ports, the agent's unix socket). */

import type { Server } from 'node:http';

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
