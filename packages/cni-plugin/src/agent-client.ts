/**
 * One HTTP/1.1 request to hostnic-agent on its unix socket, with a connect bound and an overall deadline.
 *
 * Failures are sorted by what they mean for the caller: the agent was never reached (safe to retry, and DEL
 * may clean up by itself), the agent was reached but did not finish (timeout, connection lost: also
 * retryable, the agent's verbs are idempotent), the agent answered with a CNI error (its code is kept), or
 * the agent answered something that is not the protocol.
 */

import { request } from 'node:http';
import { createConnection } from 'node:net';
import type { AgentErrorBody } from './protocol.ts';
import { PROTOCOL_VERSION } from './protocol.ts';
import { CniError, InternalError, TryAgainLaterError } from './errors.ts';

export const PLUGIN_VERSION = '0.1.0';

/** Answers larger than this are not a CNI result; stop reading instead of growing without bound. */
const MAX_RESPONSE_BYTES = 1 << 20;

export type UnreachableReason = 'no-socket' | 'refused' | 'connect-timeout' | 'permission' | 'busy' | 'other';

/** The agent could not be reached at all: nothing was delivered. */
export class AgentUnreachableError extends TryAgainLaterError {
  override name = 'AgentUnreachableError';
  readonly reason: UnreachableReason;
  constructor(socketPath: string, reason: UnreachableReason, why: string, options?: { cause?: unknown }) {
    super(
      `hostnic-agent is not reachable at ${socketPath}: ${why}`,
      reason === 'permission'
        ? 'the plugin must run as root, as kubelet runs it'
        : 'check that the hostnic-node pod of this node is running (kubectl -n kube-system get pods -o wide | grep hostnic) and read its logs; the runtime retries',
      options,
    );
    this.reason = reason;
  }
}

/** The request may have been delivered, but no complete answer came back. */
export class AgentNoAnswerError extends TryAgainLaterError {
  override name = 'AgentNoAnswerError';
  readonly timedOut: boolean;
  constructor(msg: string, timedOut: boolean, options?: { cause?: unknown }) {
    super(msg, 'the agent may be overloaded or stuck; read the logs of the hostnic-node pod of this node; the runtime retries', options);
    this.timedOut = timedOut;
  }
}

/** The agent answered with a CNI error; its code and message are passed on as they are. */
export class AgentAnswerError extends CniError {
  override name = 'AgentAnswerError';
  readonly httpStatus: number;
  constructor(httpStatus: number, body: AgentErrorBody) {
    super(body.code, body.msg, body.details);
    this.httpStatus = httpStatus;
  }
}

/** The agent answered, but not in the protocol (a version mismatch or a bug). */
export class AgentProtocolError extends InternalError {
  override name = 'AgentProtocolError';
}

/** Whether the agent is, for the caller's purpose, down: nothing useful can be expected from it now. */
export function agentUnavailable(e: unknown): boolean {
  if (e instanceof AgentUnreachableError || e instanceof AgentNoAnswerError) return true;
  return e instanceof AgentAnswerError && (e.code === 11 || e.httpStatus === 503);
}

export interface AgentClientOptions {
  socketPath: string;
  connectTimeoutMs: number;
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function unreachableReason(code: string | undefined): UnreachableReason {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no-socket';
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
      return 'refused';
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    case 'EAGAIN':
      return 'busy';
    default:
      return 'other';
  }
}

const REASON_TEXT: Record<UnreachableReason, string> = {
  'no-socket': 'no socket (the agent is not running)',
  refused: 'connection refused (the agent is not running)',
  'connect-timeout': 'connect timed out',
  permission: 'permission denied',
  busy: 'the socket is not accepting connections (backlog full)',
  other: 'cannot connect',
};

function isErrorBody(v: unknown): v is AgentErrorBody {
  return (
    typeof v === 'object' &&
    v !== null &&
    'code' in v &&
    typeof v.code === 'number' &&
    Number.isInteger(v.code) &&
    v.code > 0 &&
    'msg' in v &&
    typeof v.msg === 'string' &&
    (!('details' in v) || v.details === undefined || typeof v.details === 'string')
  );
}

export class AgentClient {
  readonly socketPath: string;
  private readonly connectTimeoutMs: number;

  constructor(options: AgentClientOptions) {
    this.socketPath = options.socketPath;
    this.connectTimeoutMs = options.connectTimeoutMs;
  }

  post<T>(path: string, body: unknown, totalMs: number, parse: (raw: unknown) => T): Promise<T> {
    return this.exchange('POST', path, JSON.stringify(body), totalMs, parse);
  }

  /** `anyStatus`: an answer that `parse` accepts counts whatever its HTTP status (STATUS says 503 + why). */
  get<T>(path: string, totalMs: number, parse: (raw: unknown) => T, anyStatus = false): Promise<T> {
    return this.exchange('GET', path, undefined, totalMs, parse, anyStatus);
  }

  private exchange<T>(
    method: string,
    path: string,
    payload: string | undefined,
    totalMs: number,
    parse: (raw: unknown) => T,
    anyStatus = false,
  ): Promise<T> {
    const { socketPath } = this;
    return new Promise<T>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const headers: Record<string, string | number> = {
        accept: 'application/json',
        'user-agent': `hostnic-cni/${PLUGIN_VERSION}`,
        'x-hostnic-protocol': PROTOCOL_VERSION,
      };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      // Our own connection and no http.Agent: closed after the answer, so nothing keeps the process alive,
      // and the Agent's per-connection work (server name checks that compile IPv6 regexps) is skipped.
      const req = request({ path, method, headers, createConnection: () => createConnection({ path: socketPath }) });

      const finish = (err: Error | undefined, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(value as T);
      };

      const connectTimer = setTimeout(() => {
        finish(new AgentUnreachableError(socketPath, 'connect-timeout', `${REASON_TEXT['connect-timeout']} after ${this.connectTimeoutMs / 1000} s`));
      }, this.connectTimeoutMs);
      const totalTimer = setTimeout(() => {
        const e = connected
          ? new AgentNoAnswerError(`hostnic-agent did not answer ${method} ${path} within ${totalMs / 1000} s`, true)
          : new AgentUnreachableError(socketPath, 'connect-timeout', `no connection within ${totalMs / 1000} s`);
        finish(e);
      }, totalMs);

      req.on('socket', (socket) => {
        const onConnect = (): void => {
          connected = true;
          clearTimeout(connectTimer);
        };
        if (!socket.connecting) onConnect();
        else socket.once('connect', onConnect);
      });

      req.on('error', (e) => {
        if (!connected) {
          const code = errnoOf(e);
          const reason = unreachableReason(code);
          finish(new AgentUnreachableError(socketPath, reason, `${REASON_TEXT[reason]}${code ? ` (${code})` : `: ${e.message}`}`, { cause: e }));
        } else {
          finish(new AgentNoAnswerError(`hostnic-agent closed the connection during ${method} ${path}: ${e.message}`, false, { cause: e }));
        }
      });

      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            finish(new AgentProtocolError(`hostnic-agent answered ${method} ${path} with more than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (e) => {
          finish(new AgentNoAnswerError(`hostnic-agent's answer to ${method} ${path} broke off: ${e.message}`, false, { cause: e }));
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? {} : JSON.parse(text);
          } catch {
            body = undefined;
          }
          if (status >= 200 && status < 300) {
            if (body === undefined) {
              finish(new AgentProtocolError(`hostnic-agent answered ${method} ${path} with invalid JSON`, text.slice(0, 200)));
              return;
            }
            try {
              finish(undefined, parse(body));
            } catch (e) {
              const why = e instanceof Error ? e.message : String(e);
              finish(new AgentProtocolError(`hostnic-agent's answer to ${method} ${path} is not the protocol: ${why}`, undefined, { cause: e }));
            }
            return;
          }
          if (anyStatus && body !== undefined) {
            try {
              finish(undefined, parse(body));
              return;
            } catch {
              // not an answer of this verb: judged as an error below
            }
          }
          if (isErrorBody(body)) {
            finish(new AgentAnswerError(status, body));
          } else if (status === 503) {
            finish(new AgentAnswerError(status, { code: 11, msg: `hostnic-agent is not ready (HTTP 503 on ${method} ${path})`, details: text.slice(0, 200) || undefined }));
          } else {
            finish(new AgentProtocolError(`hostnic-agent answered ${method} ${path} with HTTP ${status} and no CNI error`, text.slice(0, 200) || undefined));
          }
        });
      });

      req.end(payload);
    });
  }
}
