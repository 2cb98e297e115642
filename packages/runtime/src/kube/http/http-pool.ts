/**
 * Keep-alive HTTP(S) connections to one apiserver on node:http/node:https: one request, its answer's status,
 * headers and body stream. The client above adds JSON, errors and rate limiting.
 *
 * Node's own HTTP client rather than undici: an agent that loads undici next to node:http carries a second
 * HTTP stack and undici's WebAssembly parser (tens of MiB resident, measured with the agent's bundle).
 */

import type { Agent, IncomingMessage, RequestOptions as NodeRequestOptions } from 'node:http';
import type { KubeAccess } from './access.ts';

// Through the CommonJS objects: an ES import of node:http builds its namespace, which loads Node's bundled
// undici by its lazy WebSocket exports.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export interface PoolOptions {
  /** Sockets at most; undefined: no cap. */
  readonly connections?: number | undefined;
}

export interface SendOptions {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string | undefined;
  /** Aborts the request, or the reading of its answer. */
  readonly signal?: AbortSignal | undefined;
  /** Bound on waiting for the answer's headers, ms. */
  readonly headersTimeoutMs?: number | undefined;
  /** Bound on a silence of the connection once the answer has begun, ms. */
  readonly idleTimeoutMs?: number | undefined;
}

/** The socket went silent longer than a bound the caller set. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** The connection closed before the answer's body was complete. */
export class HttpIncompleteError extends Error {
  override readonly name = 'HttpIncompleteError';
  readonly code = 'ECONNRESET';
}

export class HttpPool {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #secure: boolean;

  constructor(access: KubeAccess, options: PoolOptions = {}) {
    this.#url = new URL(access.server);
    this.#secure = this.#url.protocol === 'https:';
    const common = { keepAlive: true, ...(options.connections === undefined ? {} : { maxSockets: options.connections }) };
    this.#agent = this.#secure
      ? new https.Agent({
          ...common,
          ...(access.ca === undefined ? {} : { ca: access.ca }),
          ...(access.clientCert === undefined ? {} : { cert: access.clientCert }),
          ...(access.clientKey === undefined ? {} : { key: access.clientKey }),
          ...(access.tlsServerName === undefined ? {} : { servername: access.tlsServerName }),
          rejectUnauthorized: !access.insecureSkipTlsVerify,
        })
      : new http.Agent(common);
  }

  /** Resolves once the answer's headers are in; its body is the stream to read (or destroy). */
  send(path: string, options: SendOptions): Promise<IncomingMessage> {
    const base = this.#url.pathname.replace(/\/$/, '');
    const headers = options.body === undefined ? options.headers : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) };
    const request: NodeRequestOptions = {
      protocol: this.#url.protocol,
      hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
      port: this.#url.port,
      path: `${base}${path}`,
      method: options.method,
      headers,
      agent: this.#agent,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    return new Promise((resolve, reject) => {
      const req = (this.#secure ? https : http).request(request, (res) => {
        clearTimeout(headersTimer);
        if (options.idleTimeoutMs !== undefined) {
          // On the response: its reader sees only an error the response itself carries.
          req.setTimeout(options.idleTimeoutMs, () => res.destroy(new HttpTimeoutError(`no data for ${String(options.idleTimeoutMs)} ms`)));
        }
        resolve(res);
      });
      const headersTimer =
        options.headersTimeoutMs === undefined || options.headersTimeoutMs <= 0
          ? undefined
          : setTimeout(() => req.destroy(new HttpTimeoutError(`no answer in ${String(options.headersTimeoutMs)} ms`)), options.headersTimeoutMs);
      req.on('error', (e) => {
        clearTimeout(headersTimer);
        reject(e);
      });
      req.end(options.body);
    });
  }

  /** Closes every socket; requests still open fail. */
  close(): void {
    this.#agent.destroy();
  }
}

/** The whole body as text; fails when the connection closes before its end. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  if (!res.complete) throw new HttpIncompleteError('the connection closed before the answer was complete');
  return Buffer.concat(chunks).toString('utf8');
}
