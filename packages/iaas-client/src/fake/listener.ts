import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const RELISTEN_RETRY_MS = 50;
const RELISTEN_ATTEMPTS = 100;

/**
 * The HTTP listener, with what fault injection needs beyond `http.Server`: it can stop accepting for a
 * while and come back on the same port (a fresh `Server` each time, so no half-closed state carries over),
 * and `close()` destroys every socket, hung ones included, so it always finishes.
 */
export class Listener {
  readonly #handler: RequestHandler;
  readonly #host: string;
  #port: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Sockets that survive a refusal window: control streams the harness relies on. */
  readonly #keepOnRefuse = new WeakSet<Socket>();
  #relistenTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #log: (line: string) => void;

  constructor(handler: RequestHandler, host: string, port: number, log: (line: string) => void) {
    this.#handler = handler;
    this.#host = host;
    this.#port = port;
    this.#log = log;
  }

  get port(): number {
    return this.#port;
  }

  get accepting(): boolean {
    return this.#server?.listening ?? false;
  }

  async start(): Promise<number> {
    await this.#listen();
    return this.#port;
  }

  keepOnRefuse(socket: Socket): void {
    this.#keepOnRefuse.add(socket);
  }

  /** Closes the listening socket and every connection, then listens again on the same port after `ms`. */
  refuse(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#relistenTimer);
    this.#server?.close();
    this.#server = undefined;
    for (const socket of this.#sockets) if (!this.#keepOnRefuse.has(socket)) socket.destroy();
    this.#log(`refusing connections on port ${this.#port} for ${ms} ms`);
    this.#relistenTimer = setTimeout(() => void this.#relisten(RELISTEN_ATTEMPTS), ms);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#relistenTimer);
    const server = this.#server;
    this.#server = undefined;
    const closed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #relisten(attemptsLeft: number): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#listen();
      this.#log(`accepting connections on port ${this.#port} again`);
    } catch (err) {
      // Someone else may hold the port for a moment (TIME_WAIT, another test); keep trying for a while.
      if (attemptsLeft <= 1) {
        this.#log(`could not listen on port ${this.#port} again: ${String(err)}`);
        return;
      }
      this.#relistenTimer = setTimeout(() => void this.#relisten(attemptsLeft - 1), RELISTEN_RETRY_MS);
    }
  }

  #listen(): Promise<void> {
    const server = createServer(this.#handler);
    // A hung request must stay hung until the test gives up on it, not get a 408 from Node.
    server.requestTimeout = 0;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.#port, this.#host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.#log(`listener error: ${String(err)}`));
        const address = server.address();
        if (address !== null && typeof address === 'object') this.#port = address.port;
        if (this.#closed) {
          server.close();
          resolve();
          return;
        }
        this.#server = server;
        resolve();
      });
    });
  }
}
