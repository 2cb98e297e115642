/**
 * One HTTP/1.1 request to hostnic-agent on its unix socket, with a connect bound and an overall deadline.
 *
 * Failures are sorted by what they mean for the caller: the agent was never reached (safe to retry, and DEL
 * may clean up by itself), the agent was reached but did not finish (timeout, connection lost: also
 * retryable, the agent's verbs are idempotent), the agent answered with a CNI error (its code is kept), the
 * agent speaks a protocol version too far from ours (code 11 until the rollout is done), or the agent
 * answered something that is not the protocol.
 */

import { request } from 'node:http';
import { createConnection } from 'node:net';
import type { AgentRequest, AnswerVerdict } from '@hostnic/protocol';
import {
  CniCode,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  ProtocolSkewError,
  decodeAgentErrorBody,
  encodeRequest,
  judgeAnswer,
  protocolVersionOf,
} from '@hostnic/protocol';
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
  constructor(httpStatus: number, body: { code: number; msg: string; details?: string | undefined }) {
    super(body.code, body.msg, body.details);
    this.httpStatus = httpStatus;
  }
}

/** The agent answered, but not in the protocol (a version mismatch or a bug). */
export class AgentProtocolError extends InternalError {
  override name = 'AgentProtocolError';
}

/** Plugin and agent are too many protocol versions apart: mid-rollout, try again later. */
export class AgentSkewError extends TryAgainLaterError {
  override name = 'AgentSkewError';
  readonly plugin: number;
  readonly agent: number;
  constructor(skew: ProtocolSkewError) {
    super(skew.message, skew.details, { cause: skew });
    this.plugin = skew.plugin;
    this.agent = skew.agent;
  }
}

/** Whether the agent is, for the caller's purpose, down: nothing useful can be expected from it now. */
export function agentUnavailable(e: unknown): boolean {
  if (e instanceof AgentUnreachableError || e instanceof AgentNoAnswerError || e instanceof AgentSkewError) return true;
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

/** What came back, before it is judged. `body` is undefined when the text is not JSON. */
interface RawAnswer {
  status: number;
  version: number;
  /** Whether the answer named its version (agents from protocol 2 on do). */
  versioned: boolean;
  body: unknown;
  text: string;
}

/**
 * A versioned agent refuses a version it does not serve with 400 and code 11, naming its own version. An
 * unversioned (version 1) agent never refuses for that reason: its errors are answers, not refusals.
 */
function isVersionRefusal(answer: RawAnswer): boolean {
  return answer.versioned && answer.status === 400 && errorBodyOf(answer.body)?.code === CniCode.tryAgain;
}

export type AnswerDecoder<T> = (raw: unknown, version: number) => T;

function errorBodyOf(body: unknown): ReturnType<typeof decodeAgentErrorBody> | undefined {
  try {
    return decodeAgentErrorBody(body);
  } catch {
    return undefined;
  }
}

export class AgentClient {
  readonly socketPath: string;
  private readonly connectTimeoutMs: number;

  constructor(options: AgentClientOptions) {
    this.socketPath = options.socketPath;
    this.connectTimeoutMs = options.connectTimeoutMs;
  }

  /**
   * Sends `body` in this plugin's protocol version; an agent one version behind that refuses it gets it once
   * more in its own version, within the same deadline.
   */
  async post<T>(path: string, body: AgentRequest, totalMs: number, decode: AnswerDecoder<T>): Promise<T> {
    const deadline = performance.now() + totalMs;
    let version = PROTOCOL_VERSION;
    for (let resent = false; ; resent = true) {
      let payload: string;
      try {
        payload = JSON.stringify(encodeRequest(body, version));
      } catch (e) {
        throw e instanceof ProtocolSkewError ? new AgentSkewError(e) : e;
      }
      const answer = await this.exchange('POST', path, payload, Math.max(1, deadline - performance.now()), version);
      const verdict = judgeAnswer(version, answer.version, isVersionRefusal(answer));
      if (verdict.kind === 'resend' && !resent) {
        version = verdict.version;
        continue;
      }
      return this.judge('POST', path, answer, verdict, decode, false);
    }
  }

  /** `anyStatus`: an answer that `decode` accepts counts whatever its HTTP status (STATUS says 503 + why). */
  async get<T>(path: string, totalMs: number, decode: AnswerDecoder<T>, anyStatus = false): Promise<T> {
    const answer = await this.exchange('GET', path, undefined, totalMs, PROTOCOL_VERSION);
    return this.judge('GET', path, answer, judgeAnswer(PROTOCOL_VERSION, answer.version, false), decode, anyStatus);
  }

  private judge<T>(method: string, path: string, answer: RawAnswer, verdict: AnswerVerdict, decode: AnswerDecoder<T>, anyStatus: boolean): T {
    const { status, body, text, version } = answer;
    if (verdict.kind === 'skew') throw new AgentSkewError(verdict.error);
    // Refused again after the resend: the agent cannot serve any version we speak.
    if (verdict.kind === 'resend') throw new AgentSkewError(new ProtocolSkewError(PROTOCOL_VERSION, version));
    if (status >= 200 && status < 300) {
      if (body === undefined) throw new AgentProtocolError(`hostnic-agent answered ${method} ${path} with invalid JSON`, text.slice(0, 200));
      try {
        return decode(body, version);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new AgentProtocolError(`hostnic-agent's answer to ${method} ${path} is not the protocol: ${why}`, undefined, { cause: e });
      }
    }
    if (anyStatus && body !== undefined) {
      try {
        return decode(body, version);
      } catch {
        // not an answer of this verb: judged as an error below
      }
    }
    const error = errorBodyOf(body);
    if (error) throw new AgentAnswerError(status, error);
    if (status === 503) {
      throw new AgentAnswerError(status, { code: 11, msg: `hostnic-agent is not ready (HTTP 503 on ${method} ${path})`, details: text.slice(0, 200) || undefined });
    }
    throw new AgentProtocolError(`hostnic-agent answered ${method} ${path} with HTTP ${status} and no CNI error`, text.slice(0, 200) || undefined);
  }

  private exchange(method: string, path: string, payload: string | undefined, totalMs: number, version: number): Promise<RawAnswer> {
    const { socketPath } = this;
    return new Promise<RawAnswer>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const headers: Record<string, string | number> = {
        accept: 'application/json',
        'user-agent': `hostnic-cni/${PLUGIN_VERSION}`,
        [PROTOCOL_HEADER]: version,
      };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      // Our own connection and no http.Agent: closed after the answer, so nothing keeps the process alive,
      // and the Agent's per-connection work (server name checks that compile IPv6 regexps) is skipped.
      const req = request({ path, method, headers, createConnection: () => createConnection({ path: socketPath }) });

      const finish = (err: Error | undefined, value?: RawAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        if (err) {
          req.destroy();
          reject(err);
        } else if (value) resolve(value);
      };

      const connectTimer = setTimeout(() => {
        finish(new AgentUnreachableError(socketPath, 'connect-timeout', `${REASON_TEXT['connect-timeout']} after ${this.connectTimeoutMs / 1000} s`));
      }, this.connectTimeoutMs);
      const totalTimer = setTimeout(() => {
        const e = connected
          ? new AgentNoAnswerError(`hostnic-agent did not answer ${method} ${path} within ${Math.round(totalMs) / 1000} s`, true)
          : new AgentUnreachableError(socketPath, 'connect-timeout', `no connection within ${Math.round(totalMs) / 1000} s`);
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
          let answered: number;
          try {
            answered = protocolVersionOf(res.headers[PROTOCOL_HEADER]);
          } catch (e) {
            finish(new AgentProtocolError(`hostnic-agent's answer to ${method} ${path} is not the protocol: ${e instanceof Error ? e.message : String(e)}`));
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? {} : JSON.parse(text);
          } catch {
            body = undefined;
          }
          finish(undefined, { status: res.statusCode ?? 0, version: answered, versioned: res.headers[PROTOCOL_HEADER] !== undefined, body, text });
        });
      });

      req.end(payload);
    });
  }
}
