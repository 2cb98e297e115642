/**
 * The HTTP exchange with the QingCloud API on node:http(s): one keep-alive pool per origin, a connect timeout,
 * a bound on every silence of an attempt, and errors that say whether the request can have reached the server.
 * Node's own client rather than undici, so that an agent using this library and node:http carries one HTTP
 * stack, not two (undici and its WebAssembly parser cost tens of MiB resident).
 */

import type { Agent, IncomingMessage } from 'node:http';
import { IaasTransportError, type DeliveryState } from './errors.ts';

export interface TransportOptions {
  /** `http(s)://host:port`, no path. */
  origin: string;
  /** TCP (and TLS) connect timeout. */
  connectTimeoutMs: number;
  /** Bound on waiting for the response headers and between body chunks of one attempt. */
  requestTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this long. */
  keepAliveTimeoutMs?: number;
  /** Sockets per origin; QingCloud calls are small, a few suffice. */
  connections?: number;
}

export interface HttpRequest {
  action: string;
  method: 'GET' | 'POST';
  path: string;
  /** Already-encoded query (GET) or form body (POST), ending with `&signature=...`. */
  payload: string;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

// The CommonJS objects: an ES import of node:http builds its namespace, whose lazy WebSocket exports load
// Node's bundled undici.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

/** The transport's own failure codes, beside the system's (ECONNREFUSED, ECONNRESET, ...). */
export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT';
export const HEADERS_TIMEOUT = 'HEADERS_TIMEOUT';
export const BODY_TIMEOUT = 'BODY_TIMEOUT';
export const BODY_INCOMPLETE = 'BODY_INCOMPLETE';

class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Errors whose request cannot have reached the server: nothing was sent, so any action may be retried. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  CONNECT_TIMEOUT,
]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describeError(code: string | undefined, err: unknown): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case CONNECT_TIMEOUT:
      return 'connect timed out';
    case HEADERS_TIMEOUT:
      return 'timed out waiting for the response';
    case BODY_TIMEOUT:
      return 'timed out reading the response body';
    case BODY_INCOMPLETE:
      return 'connection closed by the server before a complete response';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** The whole body as text; fails when the connection closes before its end. */
async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  if (!res.complete) throw new TransportFailure(BODY_INCOMPLETE, 'the connection closed before the response was complete');
  return Buffer.concat(chunks).toString('utf8');
}

/** One keep-alive connection pool to the API origin. */
export class HttpTransport {
  readonly #agent: Agent;
  readonly #options: TransportOptions;
  readonly #url: URL;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#url = new URL(options.origin);
    // The agent's timeout applies to the sockets it keeps idle: one silent that long is closed.
    const agentOptions = { keepAlive: true, timeout: options.keepAliveTimeoutMs ?? 30_000, maxSockets: options.connections ?? 8 };
    this.#agent = this.#url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  get origin(): string {
    return this.#options.origin;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const isGet = req.method === 'GET';
    try {
      const res = await this.#exchange(req, isGet);
      const body = await readBody(res);
      const contentType = res.headers['content-type'];
      return { status: res.statusCode ?? 0, contentType: contentType ?? '', body };
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      const code = errorCode(err);
      const delivery: DeliveryState = code !== undefined && NOT_SENT_CODES.has(code) ? 'not-sent' : 'maybe-sent';
      throw new IaasTransportError(req.action, describeError(code, err), {
        delivery,
        ...(code === undefined ? {} : { code }),
        cause: err,
      });
    }
  }

  /** Sends the request; resolves once the response headers are in, its body still to read. */
  #exchange(req: HttpRequest, isGet: boolean): Promise<IncomingMessage> {
    const { connectTimeoutMs, requestTimeoutMs } = this.#options;
    const body = isGet ? undefined : req.payload;
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      let answer: IncomingMessage | undefined;
      const request = (this.#url.protocol === 'https:' ? https : http).request(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
          port: this.#url.port,
          path: `${req.path}${isGet ? `?${req.payload}` : ''}`,
          method: req.method,
          headers,
          agent: this.#agent,
          ...(req.signal === undefined ? {} : { signal: req.signal }),
        },
        (res) => {
          answer = res;
          resolve(res);
        },
      );
      // A pooled socket is connected already; only a new one has a connect to bound.
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => request.destroy(new TransportFailure(CONNECT_TIMEOUT, `no connection in ${String(connectTimeoutMs)} ms`)), connectTimeoutMs);
        // TLS included: the bound is on a socket ready to carry the request.
        socket.once('encrypted' in socket ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      request.setTimeout(requestTimeoutMs, () => {
        // Once the response has begun its reader sees the error only when the response itself carries it.
        if (answer === undefined) request.destroy(new TransportFailure(HEADERS_TIMEOUT, `no response in ${String(requestTimeoutMs)} ms`));
        else answer.destroy(new TransportFailure(BODY_TIMEOUT, `the response body stalled for ${String(requestTimeoutMs)} ms`));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): Promise<void> {
    this.#agent.destroy();
    return Promise.resolve();
  }
}
