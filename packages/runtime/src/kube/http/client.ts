/**
 * A small Kubernetes API client on node:http(s): JSON requests, paged lists, patches, preconditioned deletes and
 * watches, with client-go's rate limiting and a timeout on every request. It carries no generated types:
 * callers name the path (see {@link resourcePath}) and the shape they expect.
 */

import type { IncomingMessage } from 'node:http';
import { TokenBucket } from '../token-bucket.ts';
import type { RateLimit } from '../token-bucket.ts';
import type { KubeAccess } from './access.ts';
import { KubeApiError, KubeDecodeError, KubeRequestError } from './errors.ts';
import type { KubeStatus } from './errors.ts';
import { HttpIncompleteError, HttpPool, readText } from './http-pool.ts';
import { withQuery } from './paths.ts';
import type { QueryValue } from './paths.ts';
import { LineSplitter, parseWatchLine } from './watch-lines.ts';
import type { WatchEvent } from './watch-lines.ts';

export interface KubeClientOptions {
  /** Every request (and every watch connect) first takes a token (`--k8s-api-qps/--k8s-api-burst`). */
  readonly rateLimit?: RateLimit | undefined;
  /** Bound of a request that has no timeout of its own, ms. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Sockets to the apiserver at most. Each watch holds one for its life, so a cap below the number of
   * informers would starve requests behind them. Default: no cap.
   */
  readonly connections?: number | undefined;
  readonly userAgent?: string;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's timeout for this request. */
  readonly timeoutMs?: number | undefined;
}

export interface RequestOptions extends CallOptions {
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly contentType?: string;
}

export interface ListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface KubeList<T> {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ListMeta;
  readonly items: T[];
}

export interface Selectors {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface ListOptions extends Selectors, CallOptions {
  /** Page size; absent lists everything at once. */
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

export interface WatchOptions extends Selectors {
  /** Start after this version; absent starts with synthetic ADDED events of every object. */
  readonly resourceVersion?: string | undefined;
  /** Ask for BOOKMARK events (default true), which keep a resumed watch's version fresh. */
  readonly allowWatchBookmarks?: boolean | undefined;
  /** The apiserver ends the watch after this long. Default 300 s plus up to 60 s, like client-go's spread. */
  readonly timeoutSeconds?: number | undefined;
  /** Ends the watch; the iteration then simply finishes. */
  readonly signal?: AbortSignal | undefined;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type PatchStrategy = 'strategic' | 'merge' | 'json';

const PATCH_TYPES: Readonly<Record<PatchStrategy, string>> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export interface DeleteOptions extends CallOptions {
  /** The delete fails with 409 unless the object still has this version / uid. */
  readonly preconditions?: { readonly resourceVersion?: string; readonly uid?: string } | undefined;
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | undefined;
  readonly gracePeriodSeconds?: number | undefined;
}

/** Requests sent, by kind, for tests and metrics. */
export interface KubeClientStats {
  reads: number;
  writes: number;
  watches: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A watch may be silent for a while; this bounds a dead connection the server never closed. */
const WATCH_IDLE_SLACK_MS = 30_000;

function parseBody(text: string): KubeStatus | string {
  if (text === '') return '';
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as KubeStatus) : text;
  } catch {
    return text;
  }
}

function abortSignal(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (signal !== undefined) signals.push(signal);
  if (timeoutMs !== undefined && timeoutMs > 0) signals.push(AbortSignal.timeout(Math.ceil(timeoutMs)));
  if (signals.length <= 1) return signals[0];
  return AbortSignal.any(signals);
}

export class KubeClient {
  readonly server: string;
  readonly stats: KubeClientStats = { reads: 0, writes: 0, watches: 0 };
  readonly #access: KubeAccess;
  readonly #pool: HttpPool;
  readonly #bucket: TokenBucket | undefined;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(access: KubeAccess, options: KubeClientOptions = {}) {
    this.server = access.server;
    this.#access = access;
    this.#bucket = options.rateLimit === undefined ? undefined : new TokenBucket(options.rateLimit);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#userAgent = options.userAgent ?? 'hostnic';
    this.#pool = new HttpPool(access, { connections: options.connections });
  }

  async #headers(contentType: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent };
    const token = await this.#access.token.token();
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (contentType !== undefined) headers['content-type'] = contentType;
    return headers;
  }

  async #send(method: HttpMethod, path: string, options: RequestOptions, idleTimeoutMs?: number): Promise<IncomingMessage> {
    await this.#bucket?.take();
    const hasBody = options.body !== undefined;
    const headers = await this.#headers(hasBody ? (options.contentType ?? 'application/json') : undefined);
    try {
      return await this.#pool.send(path, {
        method,
        headers,
        ...(hasBody ? { body: JSON.stringify(options.body) } : {}),
        signal: abortSignal(options.signal, idleTimeoutMs === undefined ? (options.timeoutMs ?? this.#timeoutMs) : undefined),
        // A watch has no overall deadline, but its headers come as fast as any answer's.
        ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs, headersTimeoutMs: options.timeoutMs ?? this.#timeoutMs }),
      });
    } catch (e) {
      throw new KubeRequestError(method, path, e);
    }
  }

  /** Throws the answer as a {@link KubeApiError} unless it is 2xx. */
  async #check(method: string, path: string, res: IncomingMessage): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    let text = '';
    try {
      text = await readText(res);
    } catch {
      // The status is what matters; a body cut short leaves the error without its Status.
    }
    if (status === 401) this.#access.token.invalidate();
    throw new KubeApiError(method, path, status, parseBody(text));
  }

  /**
   * One request; resolves with the parsed JSON answer (undefined for an empty one).
   * @throws {@link KubeApiError} (non-2xx), {@link KubeRequestError} (no answer), {@link KubeDecodeError}
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    if (method === 'GET') this.stats.reads++;
    else this.stats.writes++;
    const full = withQuery(path, options.query);
    const res = await this.#send(method, full, options);
    await this.#check(method, full, res);
    let text: string;
    try {
      text = await readText(res);
    } catch (e) {
      throw new KubeRequestError(method, full, e);
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeDecodeError(`${method} ${full}: the answer is not JSON: ${text.slice(0, 120)}`);
    }
  }

  get<T>(path: string, options: CallOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  /** One page of a collection. */
  async list<T>(path: string, options: ListOptions = {}): Promise<KubeList<T>> {
    const { labelSelector, fieldSelector, limit, resourceVersion } = options;
    const list = await this.request<KubeList<T> | undefined>('GET', path, {
      ...options,
      query: { labelSelector, fieldSelector, limit, continue: options.continue, resourceVersion },
    });
    if (list === undefined || !Array.isArray(list.items)) throw new KubeDecodeError(`GET ${path}: the answer is not a list`);
    return { ...list, metadata: list.metadata ?? {} };
  }

  /**
   * The whole collection, `pageSize` objects per request; the version is the last page's, which is the
   * snapshot's (the apiserver serves every page of one list from the same snapshot).
   */
  async listAll<T>(path: string, options: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let next: string | undefined;
    let last: KubeList<T>;
    do {
      last = await this.list<T>(path, { ...options, limit: options.pageSize, continue: next });
      items.push(...last.items);
      next = last.metadata.continue === '' ? undefined : last.metadata.continue;
    } while (next !== undefined);
    return { ...last, metadata: { resourceVersion: last.metadata.resourceVersion }, items };
  }

  create<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  /** PUT of a whole object: 409 when its `metadata.resourceVersion` is not the stored one. */
  replace<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown, strategy: PatchStrategy, options: CallOptions = {}): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body, contentType: PATCH_TYPES[strategy] });
  }

  /** Resolves with what the apiserver answers: the object (while finalizers hold it) or a Status. */
  delete<T = unknown>(path: string, options: DeleteOptions = {}): Promise<T> {
    const { preconditions, propagationPolicy, gracePeriodSeconds } = options;
    const needsBody = preconditions !== undefined || propagationPolicy !== undefined || gracePeriodSeconds !== undefined;
    const body = needsBody ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions, propagationPolicy, gracePeriodSeconds } : undefined;
    return this.request<T>('DELETE', path, { ...options, body });
  }

  /**
   * The events of a watch, in order, until the apiserver ends it or the signal aborts (the iteration then
   * finishes without an error). Breaking out of the loop closes the connection.
   * @throws {@link KubeApiError} on a non-2xx answer or an ERROR event (410: the version is too old; relist),
   *   {@link KubeRequestError} when the connection fails
   */
  async *watch<T>(path: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, undefined> {
    this.stats.watches++;
    const timeoutSeconds = options.timeoutSeconds ?? 300 + Math.floor(Math.random() * 60);
    const full = withQuery(path, {
      watch: true,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      timeoutSeconds,
    });
    const signal = options.signal;
    if (signal?.aborted) return;
    let res: IncomingMessage;
    try {
      res = await this.#send('GET', full, { signal }, timeoutSeconds * 1000 + WATCH_IDLE_SLACK_MS);
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    try {
      await this.#check('GET', full, res);
      const lines = new LineSplitter();
      for await (const chunk of res as AsyncIterable<Buffer>) {
        for (const line of lines.push(chunk)) yield parseWatchLine<T>(line, path);
      }
      if (!res.complete) throw new HttpIncompleteError('the connection closed in the middle of the watch');
      for (const line of lines.end()) yield parseWatchLine<T>(line, path);
    } catch (e) {
      if (signal?.aborted) return;
      if (e instanceof KubeApiError || e instanceof KubeDecodeError) throw e;
      throw new KubeRequestError('WATCH', full, e);
    } finally {
      res.destroy();
    }
  }

  /** Closes the sockets; requests still open fail. */
  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }
}
