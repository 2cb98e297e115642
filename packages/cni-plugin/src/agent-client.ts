/**
 * One HTTP/1.1 request to hostnic-agent on its unix socket, with a connect bound and an overall deadline.
 *
 * Failures are sorted by what they mean for the caller: the agent was never reached (safe to retry, and DEL
 * may clean up by itself), the agent was reached but did not finish (timeout, connection lost: also
 * retryable, the agent's verbs are idempotent), the agent answered with a CNI error (its code is kept), the
 * agent speaks a protocol version too far from ours (code 11 until the rollout is done), or the agent
 * answered something that is not the protocol.
 */

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
import type { Http1Response } from './http1.ts';
import { ResponseReader, formatRequest } from './http1.ts';

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

/** A monotonic clock in ms; `performance.now()` would load perf_hooks (nine modules) on the first use. */
function nowMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
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
    const deadline = nowMs() + totalMs;
    let version = PROTOCOL_VERSION;
    for (let resent = false; ; resent = true) {
      let payload: string;
      try {
        payload = JSON.stringify(encodeRequest(body, version));
      } catch (e) {
        throw e instanceof ProtocolSkewError ? new AgentSkewError(e) : e;
      }
      const answer = await this.exchange('POST', path, payload, Math.max(1, deadline - nowMs()), version);
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
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      'user-agent': `hostnic-cni/${PLUGIN_VERSION}`,
      [PROTOCOL_HEADER]: version,
    };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const bytes = formatRequest({ method, path, headers, body: payload });
    return new Promise<RawAnswer>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const reader = new ResponseReader(MAX_RESPONSE_BYTES);
      // One connection of our own, closed as soon as the answer is complete: nothing keeps the process alive.
      const socket = createConnection({ path: socketPath });

      const finish = (err: Error | undefined, value?: RawAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        if (err) {
          socket.destroy();
          reject(err);
        } else if (value) {
          // end(), not destroy(): net's destroy looks at process.stderr, which makes Node build the stderr
          // stream (milliseconds) in a process that writes stderr with write(2). The agent closes after its
          // answer, and the plugin exits before that matters.
          socket.end();
          resolve(value);
        }
      };
      const answered = (response: Http1Response): void => {
        try {
          finish(undefined, rawAnswerOf(response));
        } catch (e) {
          finish(new AgentProtocolError(`hostnic-agent's answer to ${method} ${path} is not the protocol: ${e instanceof Error ? e.message : String(e)}`));
        }
      };
      const cutOff = (e: Error): void => {
        finish(new AgentNoAnswerError(`hostnic-agent closed the connection during ${method} ${path}: ${e.message}`, false, { cause: e }));
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

      socket.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        socket.write(bytes);
      });
      socket.on('error', (e) => {
        if (!connected) {
          const code = errnoOf(e);
          const reason = unreachableReason(code);
          finish(new AgentUnreachableError(socketPath, reason, `${REASON_TEXT[reason]}${code ? ` (${code})` : `: ${e.message}`}`, { cause: e }));
        } else {
          cutOff(e);
        }
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          const response = reader.push(chunk);
          if (response) answered(response);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          finish(new AgentProtocolError(`hostnic-agent's answer to ${method} ${path} is not HTTP/1.1 as expected: ${why}`));
        }
      });
      socket.on('end', () => {
        try {
          answered(reader.end());
        } catch (e) {
          cutOff(e instanceof Error ? e : new Error(String(e)));
        }
      });
      socket.on('close', () => cutOff(new Error('connection closed')));
    });
  }
}

/** The protocol's reading of an HTTP answer: its version header and its body as JSON (undefined if not JSON). */
function rawAnswerOf(response: Http1Response): RawAnswer {
  const header = response.headers.get(PROTOCOL_HEADER);
  const version = protocolVersionOf(header);
  const text = response.body.toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, version, versioned: header !== undefined, body, text };
}
