/**
 * An informer on the lean client: a cache of one collection kept current by a paged list and a watch from
 * its resourceVersion, as client-go's reflector does. A watch the apiserver ends is resumed from the last
 * version seen (bookmarks included); 410 Gone relists at once; any other failure restarts after a jittered
 * backoff, resuming the watch when a version is known.
 */

import { InvalidOptionError } from '../../errors.ts';
import { silentLogger } from '../../log.ts';
import type { Logger } from '../../log.ts';
import { backoffDelay, checkDelay, sleep } from '../../timers.ts';
import { InformerStoppedError } from '../errors.ts';
import { DEFAULT_BACKOFF } from '../informer-events.ts';
import type { Backoff, InformerHandler, InformerStats } from '../informer-events.ts';
import { InformerStore, rawName } from '../informer-store.ts';
import { describeError, httpStatusOf } from '../status.ts';
import { SyncGate } from '../sync-gate.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';

export interface KubeInformerOptions<T extends KubeObject> {
  /** For logs and errors, e.g. `pods`. */
  readonly name: string;
  readonly client: KubeClient;
  /** The collection, e.g. `/api/v1/pods` (see resourcePath). */
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /**
   * Checks and types each object of a list or a watch event; a throw skips the object (logged). Default:
   * any JSON object with `metadata.name`.
   */
  readonly parse?: ((raw: unknown) => T) | undefined;
  /** Objects per list request. Default 500, as client-go's reflector. */
  readonly pageSize?: number | undefined;
  /** A list that takes longer is abandoned and retried. Default 60 s. */
  readonly listTimeoutMs?: number | undefined;
  /** Re-deliver every cached object as `resync` this often; 0 turns it off. Default 30 s. */
  readonly resyncMs?: number | undefined;
  /** Restart delay after a failed list or watch. Default 1 s doubling to 30 s, jittered. */
  readonly backoff?: Backoff | undefined;
  readonly log?: Logger | undefined;
}

/** What {@link KubeInformer} counts on top of {@link InformerStats}. */
export interface KubeInformerStats extends InformerStats {
  /** Watches opened (the first and every resume or relist). */
  watches: number;
  /** Relists forced by 410 Gone. */
  expired: number;
}

const DEFAULT_LIST_TIMEOUT_MS = 60_000;
const DEFAULT_PAGE_SIZE = 500;

function defaultParse<T extends KubeObject>(raw: unknown): T {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('the object is not a JSON object');
  const metadata = (raw as KubeObject).metadata;
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.name !== 'string') throw new TypeError('the object has no metadata.name');
  return raw as T;
}

export class KubeInformer<T extends KubeObject> {
  readonly name: string;
  readonly #options: KubeInformerOptions<T>;
  readonly #parse: (raw: unknown) => T;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #resyncMs: number;
  readonly #store: InformerStore<T>;
  readonly #sync: SyncGate;
  readonly #stop = new AbortController();
  readonly #stats: KubeInformerStats = { lists: 0, errors: 0, watches: 0, expired: 0 };
  #state: 'new' | 'running' | 'stopped' = 'new';
  #loop: Promise<void> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: KubeInformerOptions<T>) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    if (!(backoff.baseMs > 0)) throw new InvalidOptionError('backoff.baseMs', 'must be positive');
    if (!(backoff.maxMs >= backoff.baseMs)) throw new InvalidOptionError('backoff.maxMs', 'must be at least backoff.baseMs');
    this.#resyncMs = checkDelay('resyncMs', options.resyncMs ?? 30_000);
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new InvalidOptionError('pageSize', `must be a whole number of at least 1, got ${pageSize}`);
    this.name = options.name;
    this.#options = options;
    this.#parse = options.parse ?? defaultParse<T>;
    this.#backoff = backoff;
    this.#log = (options.log ?? silentLogger).with({ informer: options.name });
    this.#store = new InformerStore<T>(this.#log);
    this.#sync = new SyncGate(options.name);
  }

  get hasSynced(): boolean {
    return this.#sync.open;
  }

  get stats(): KubeInformerStats {
    return { ...this.#stats };
  }

  /** Handlers run synchronously in event order; one that throws is logged and does not stop the others. */
  onEvent(handler: InformerHandler<T>): () => void {
    return this.#store.onEvent(handler);
  }

  start(): void {
    if (this.#state === 'running') return;
    if (this.#state === 'stopped') throw new InformerStoppedError(this.name);
    this.#state = 'running';
    this.#loop = this.#run();
    if (this.#resyncMs > 0) {
      this.#resyncTimer = setInterval(() => {
        if (this.#sync.open && this.#state === 'running') this.#store.resync();
      }, this.#resyncMs);
    }
  }

  /** Resolves once the first list has been applied; rejects when the signal aborts or the informer stops first. */
  synced(signal?: AbortSignal): Promise<void> {
    return this.#sync.wait(signal);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#store.get(name, namespace);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    return this.#store.list(namespace);
  }

  /** Idempotent; resolves once the connection is closed. The cache keeps its last content; no event follows. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearInterval(this.#resyncTimer);
    this.#resyncTimer = undefined;
    this.#stop.abort();
    this.#sync.fail();
    await this.#loop;
  }

  get #running(): boolean {
    return this.#state === 'running';
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let version: string | undefined;
    /** Consecutive failures or eventless watches, for the delay before the next attempt. */
    let failures = 0;
    while (this.#running) {
      try {
        if (version === undefined) {
          version = await this.#relist(signal);
          failures = 0;
        }
        const events = await this.#watch(version, signal, (seen) => {
          version = seen;
        });
        if (events > 0) failures = 0;
        // A watch closed without a single event (not even a bookmark) may be a server that ends them at
        // once: do not spin.
        else await sleep(backoffDelay(failures++, this.#backoff.baseMs, this.#backoff.maxMs), signal);
      } catch (error) {
        if (!this.#running) break;
        if (httpStatusOf(error) === 410) {
          this.#stats.expired++;
          this.#log.debug('watch version expired; relisting', { version });
          version = undefined;
          continue;
        }
        this.#stats.errors++;
        this.#stats.lastError = describeError(error);
        const delayMs = Math.round(backoffDelay(failures++, this.#backoff.baseMs, this.#backoff.maxMs));
        this.#log.warn('list/watch failed; restarting', { error: this.#stats.lastError, retryInMs: delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  /** Lists every page and replaces the cache; returns the list's resourceVersion. */
  async #relist(signal: AbortSignal): Promise<string> {
    const { client, path, labelSelector, fieldSelector } = this.#options;
    const list = await client.listAll<unknown>(path, {
      labelSelector,
      fieldSelector,
      pageSize: this.#options.pageSize ?? DEFAULT_PAGE_SIZE,
      signal,
      timeoutMs: this.#options.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS,
    });
    if (!this.#running) return '';
    const items: T[] = [];
    for (const raw of list.items) {
      const obj = this.#decode('LIST', raw);
      if (obj !== undefined) items.push(obj);
    }
    this.#store.replace(items);
    this.#stats.lists++;
    if (this.#sync.release()) this.#log.debug('synced', { objects: this.#store.size });
    // Without a version the watch would replay everything as ADDED; an apiserver always sends one.
    return list.metadata.resourceVersion ?? '';
  }

  /** One watch until the apiserver ends it; returns how many events (bookmarks included) it carried. */
  async #watch(version: string, signal: AbortSignal, seen: (version: string) => void): Promise<number> {
    const { client, path, labelSelector, fieldSelector } = this.#options;
    this.#stats.watches++;
    let events = 0;
    for await (const event of client.watch<unknown>(path, { resourceVersion: version === '' ? undefined : version, labelSelector, fieldSelector, signal })) {
      if (!this.#running) break;
      events++;
      const raw = event.object as KubeObject;
      const next = raw.metadata?.resourceVersion;
      if (event.type === 'BOOKMARK') {
        if (next !== undefined) seen(next);
        continue;
      }
      const obj = this.#decode(event.type, event.object);
      if (next !== undefined) seen(next);
      if (obj === undefined) continue;
      if (event.type === 'DELETED') this.#store.remove(obj);
      else this.#store.upsert(obj);
    }
    return events;
  }

  #decode(phase: string, raw: unknown): T | undefined {
    try {
      return this.#parse(raw);
    } catch (error) {
      this.#log.error('skipped an object that does not decode', { phase, object: rawName(raw), error: describeError(error) });
      return undefined;
    }
  }
}
