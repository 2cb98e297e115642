/**
 * Relays from node namespaces to the fakes on the root namespace's loopback, through unix sockets (which live
 * in the file system, not in a network namespace): nothing of the machine's own network changes.
 */
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The node-namespace half: `node relay-main.ts <port>=<socket> ...`. */
export const RELAY_SCRIPT = fileURLToPath(new URL('./relay-main.ts', import.meta.url));

/** Root-namespace half of a relay: a unix socket whose connections go to 127.0.0.1:<port>. */
export async function unixBridge(socketPath: string, port: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return server;
}

