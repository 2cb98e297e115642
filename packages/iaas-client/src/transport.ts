import { Agent, request } from 'undici';
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

/** Errors whose request cannot have reached the server: nothing was sent, so any action may be retried. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
  }
  return undefined;
}

function describeError(code: string | undefined, err: unknown): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for the response';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out reading the response body';
    case 'UND_ERR_SOCKET':
      return 'connection closed by the server before a complete response';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** One keep-alive connection pool to the API origin. */
export class HttpTransport {
  readonly #agent: Agent;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connections: options.connections ?? 8,
    });
  }

  get origin(): string {
    return this.#options.origin;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const isGet = req.method === 'GET';
    const url = `${this.#options.origin}${req.path}${isGet ? `?${req.payload}` : ''}`;
    try {
      const res = await request(url, {
        dispatcher: this.#agent,
        method: req.method,
        headers: isGet ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
        ...(isGet ? {} : { body: req.payload }),
        signal: req.signal,
      });
      const body = await res.body.text();
      const contentType = res.headers['content-type'];
      return {
        status: res.statusCode,
        contentType: Array.isArray(contentType) ? (contentType[0] ?? '') : (contentType ?? ''),
        body,
      };
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

  close(): Promise<void> {
    return this.#agent.close();
  }
}
