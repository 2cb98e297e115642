/**
 * The agent's API on its unix socket (@hostnic/protocol): the CNI verbs, STATUS and read-only introspection.
 * Every request's protocol version is checked and every body decoded before any work; answers name the
 * version they are in. A failure of one request is answered and logged, never thrown out of the server.
 */

import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import {
  AgentPath,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  ProtocolDecodeError,
  ProtocolSkewError,
  acceptRequestVersion,
  decodeAddRequest,
  decodeCheckRequest,
  decodeDelRequest,
  decodeGcRequest,
  protocolVersionOf,
} from '@hostnic/protocol';
import type { StatusResponse } from '@hostnic/protocol';
import { CniCode, PodError } from '../pods/errors.ts';
import type { PodService } from '../pods/service.ts';
import type { DatastoreSnapshot } from '../datastore/index.ts';
import { RequestError, readJson, sendError, sendJson } from './http.ts';
import { OperatorPath, booleanField } from './operator.ts';
import type { NodeCheckAnswer } from './operator.ts';
import { listen } from '@hostnic/runtime';

export interface AgentServerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentServerOptions {
  socketPath: string;
  pods: Pick<PodService, 'add' | 'del' | 'check' | 'gc'>;
  /** The datastore's snapshot, for /v1/pods and /v1/nics. */
  snapshot: () => Pick<DatastoreSnapshot, 'pods' | 'nics'>;
  /** Pool utilisation for /v1/pools. */
  pools?: () => Promise<unknown>;
  /** The operator's write requests (OperatorPath); absent, they are answered 404. */
  operator?: {
    checkNode(fix: boolean): Promise<NodeCheckAnswer>;
    clearNics(dryRun: boolean): Promise<readonly unknown[]>;
  };
  /** Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Upper bound on a request's timeoutMs; default 10 min. */
  maxTimeoutMs?: number;
  logger?: AgentServerLogger;
  /** Told about every CNI request answered (for metrics): its path, whether it succeeded, how long it took. */
  onRequest?: (path: string, ok: boolean, seconds: number) => void;
}

class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

/** A CNI verb: decodes the body (throwing before any work) and gives back the work to do. */
type Verb = (body: unknown, version: number) => { timeoutMs: number; run: (signal: AbortSignal) => Promise<unknown> };

function verb<T extends { timeoutMs: number }>(decode: (body: unknown, version: number) => T, run: (request: T, signal: AbortSignal) => Promise<unknown>): Verb {
  return (body, version) => {
    const request = decode(body, version);
    return { timeoutMs: request.timeoutMs, run: (signal) => run(request, signal) };
  };
}

export class AgentServer {
  readonly #o: AgentServerOptions;
  readonly #server: Server;
  #ready = false;
  #reason = 'hostnic-agent is starting';
  #closing: Promise<void> | undefined;
  /** Set by drain(): ADDs are refused with code 11 so that the runtime retries them on the next agent. */
  #draining = false;
  /** Verbs still running (also past their timeout answer: an aborted ADD is still rolling back). */
  readonly #inFlight = new Set<{ abort: AbortController; done: Promise<unknown> }>();

  constructor(options: AgentServerOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        this.#o.logger?.warn('request failed unexpectedly', { error: String(e) });
        sendError(res, 500, { code: CniCode.internal, msg: `internal error: ${e instanceof Error ? e.message : String(e)}` });
      });
    });
    this.#server.on('clientError', (_e, socket) => {
      socket.destroy();
    });
  }

  get socketPath(): string {
    return this.#o.socketPath;
  }

  /** CNI verbs are refused with 503 until this is true; `reason` says why while it is false. */
  setReady(ready: boolean, reason?: string): void {
    this.#ready = ready;
    if (reason !== undefined) this.#reason = reason;
  }

  status(): StatusResponse {
    if (this.#draining) return { ready: false, code: 50, reason: 'hostnic-agent is stopping' };
    return this.#ready ? { ready: true } : { ready: false, code: 50, reason: this.#reason };
  }

  /**
   * Stops taking ADDs (answered with code 11), lets the verbs in flight run until `deadlineMs`, then aborts
   * them and waits until each has ended (an aborted ADD rolls back first). DEL, CHECK and GC are still served.
   * @returns how many verbs were in flight at the start and how many had to be aborted
   */
  async drain(deadlineMs: number): Promise<{ inFlight: number; aborted: number }> {
    this.#draining = true;
    const inFlight = this.#inFlight.size;
    const settled = (): Promise<unknown> => Promise.all([...this.#inFlight].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const first = await Promise.race([settled().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    let aborted = 0;
    if (first === 'deadline') {
      for (const r of this.#inFlight) {
        aborted++;
        r.abort.abort(new Error('hostnic-agent is stopping'));
      }
      await settled();
    }
    return { inFlight, aborted };
  }

  /** Creates the directory, replaces a stale socket, listens, restricts the socket to root. */
  async listen(): Promise<void> {
    const path = this.#o.socketPath;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const st = await lstat(path).catch(() => undefined);
    if (st) {
      if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
      await unlink(path);
    }
    await listen(this.#server, { path });
    await chmod(path, 0o600);
  }

  /** Stops accepting, lets requests in flight finish, removes the socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeIdleConnections();
      });
      await unlink(this.#o.socketPath).catch(() => undefined);
    })();
    return this.#closing;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    let version: number;
    try {
      version = acceptRequestVersion(protocolVersionOf(req.headers[PROTOCOL_HEADER]));
    } catch (e) {
      // Named in our own version: a plugin one version ahead resends in it.
      res.setHeader(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
      req.resume();
      return sendError(res, 400, errorAnswer(e).body);
    }
    // Answers have the same shape in versions 1 and 2: only the header differs.
    res.setHeader(PROTOCOL_HEADER, String(version));
    const verbs: Record<string, Verb> = {
      [AgentPath.add]: verb(decodeAddRequest, (r, s) => this.#o.pods.add(r, s)),
      [AgentPath.del]: verb(decodeDelRequest, async (r) => {
        await this.#o.pods.del(r);
        return {};
      }),
      [AgentPath.check]: verb(decodeCheckRequest, async (r) => {
        await this.#o.pods.check(r);
        return {};
      }),
      [AgentPath.gc]: verb(decodeGcRequest, (r) => this.#o.pods.gc(r)),
    };
    const cniVerb = verbs[path];
    if (cniVerb) {
      if (method !== 'POST') return sendError(res, 405, { code: CniCode.invalidConfig, msg: `${path} takes POST` });
      if (!this.#ready) return sendJson(res, 503, this.status());
      if (this.#draining && path === AgentPath.add) {
        return sendError(res, 503, { code: CniCode.tryAgain, msg: 'hostnic-agent is stopping; the ADD is retried on the next agent' });
      }
      return this.#runVerb(path, cniVerb, version, req, res);
    }
    const operator = this.#o.operator;
    if (operator && (path === OperatorPath.check || path === OperatorPath.clearNics)) {
      if (method !== 'POST') return sendError(res, 405, { code: CniCode.invalidConfig, msg: `${path} takes POST` });
      // Before the journal is replayed an owner may not be known yet: no removal then.
      if (!this.#ready || this.#draining) return sendJson(res, 503, this.status());
      try {
        const body = await readJson(req, this.#o.bodyLimitBytes ?? 1024 * 1024);
        if (path === OperatorPath.check) return sendJson(res, 200, await operator.checkNode(booleanField(body, 'fix')));
        return sendJson(res, 200, { nics: await operator.clearNics(booleanField(body, 'dryRun')) });
      } catch (e) {
        const { status, body } = errorAnswer(e);
        if (status >= 500) this.#o.logger?.warn(`${path} failed`, { error: body.msg });
        return sendError(res, status, body);
      }
    }
    if (method !== 'GET') return sendError(res, 405, { code: CniCode.invalidConfig, msg: `${path} takes GET` });
    switch (path) {
      case AgentPath.status:
        return sendJson(res, this.#ready ? 200 : 503, this.status());
      case AgentPath.pods:
        return sendJson(res, 200, { pods: this.#o.snapshot().pods });
      case AgentPath.nics:
        return sendJson(res, 200, { nics: this.#o.snapshot().nics });
      case AgentPath.pools:
        return sendJson(res, 200, { pools: this.#o.pools ? await this.#o.pools() : [] });
      default:
        return sendError(res, 404, { code: CniCode.invalidConfig, msg: `no such path: ${path}` });
    }
  }

  async #runVerb(path: string, cniVerb: Verb, version: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const abort = new AbortController();
    const started = performance.now();
    let ok = false;
    try {
      const request = cniVerb(await readJson(req, this.#o.bodyLimitBytes ?? 1024 * 1024), version);
      const timeoutMs = Math.min(request.timeoutMs, this.#o.maxTimeoutMs ?? 600_000);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new RequestTimeoutError(`${path} did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const work = request.run(abort.signal);
      const entry = { abort, done: work.catch(() => undefined) };
      this.#inFlight.add(entry);
      void entry.done.finally(() => this.#inFlight.delete(entry));
      const answer = await Promise.race([work, timeout]);
      ok = true;
      sendJson(res, 200, answer);
    } catch (e) {
      const { status, body } = errorAnswer(e);
      if (status >= 500) this.#o.logger?.warn(`${path} failed`, { error: body.msg });
      sendError(res, status, body);
    } finally {
      clearTimeout(timer);
      this.#o.onRequest?.(path, ok, (performance.now() - started) / 1000);
    }
  }
}

function errorAnswer(e: unknown): { status: number; body: { code: number; msg: string; details?: string } } {
  if (e instanceof RequestError) return { status: e.httpStatus, body: { code: e.cniCode, msg: e.message } };
  if (e instanceof ProtocolDecodeError) return { status: 400, body: { code: CniCode.invalidConfig, msg: `malformed request: ${e.message}` } };
  if (e instanceof ProtocolSkewError) return { status: 400, body: { code: e.code, msg: e.message, details: e.details } };
  if (e instanceof RequestTimeoutError) return { status: 503, body: { code: CniCode.tryAgain, msg: e.message } };
  if (e instanceof PodError) {
    const status = e.transient ? 503 : e.cniCode === CniCode.invalidEnv || e.cniCode === CniCode.invalidConfig ? 400 : 500;
    return { status, body: e.details === undefined ? { code: e.cniCode, msg: e.message } : { code: e.cniCode, msg: e.message, details: e.details } };
  }
  return { status: 500, body: { code: CniCode.internal, msg: e instanceof Error ? e.message : String(e) } };
}
