import { ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { InvalidOptionError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import { InformerStoppedError } from './errors.ts';
import { DEFAULT_BACKOFF } from './informer-events.ts';
import type { Backoff, InformerHandler, InformerStats } from './informer-events.ts';
import { SyncGate } from './sync-gate.ts';
import { InformerStore, rawName } from './informer-store.ts';
import { describeError } from './status.ts';
import { backoffDelay, sleep } from '../timers.ts';

export type { Backoff, InformerEvent, InformerEventType, InformerHandler, InformerStats } from './informer-events.ts';

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and errors. */
  name: string;
  kubeConfig: KubeConfig;
  /** Collection path to watch, e.g. `/api/v1/namespaces` or `/apis/network.qingcloud.com/v1alpha1/ippools`. */
  path: string;
  /** Lists the collection with the same selectors; the signal aborts when the informer stops. */
  list: (signal: AbortSignal) => Promise<ListResult<T>>;
  /**
   * Turns a raw watch object into T. Typed API lists are deserialized by client-node (timestamps become
   * Dates) but watch events arrive as plain JSON; without this the cache would mix both shapes.
   */
  decode?: (raw: unknown) => T;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as `resync` this often; 0 turns it off. Default 30 s. */
  resyncMs?: number;
  /** Restart delay after a failed list or watch. Default 1 s doubling to 30 s, jittered. */
  backoff?: Backoff;
  log?: Logger;
}

/** ListWatch's own reconnect delay starts here; we map its doubling sequence onto our backoff. */
const LISTWATCH_BASE_DELAY_MS = 1000;
const OBJECT_PHASES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

type WatchCallback = (phase: string, object: unknown, raw?: unknown) => void;

interface WatchHooks {
  /** Called when ListWatch opens a watch, which it does right after applying a list. */
  opening(): void;
  /** Any event, bookmarks included: the connection is healthy. */
  activity(): void;
  decode(raw: unknown): unknown;
  undecodable(phase: string, raw: unknown, error: unknown): void;
}

/**
 * client-node's Watch with the holes ListWatch leaves closed: stop() may arrive while a watch is still
 * connecting (ListWatch would then keep the late stream open), and a throw before the request starts
 * would be an unhandled rejection inside ListWatch's reconnect chain.
 */
class InformerWatch extends Watch {
  readonly #hooks: WatchHooks;
  #active: AbortController | undefined;
  #stopped = false;

  constructor(kubeConfig: KubeConfig, hooks: WatchHooks) {
    super(kubeConfig);
    this.#hooks = hooks;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.#stopped) return abortedController();
    this.#hooks.opening();
    let controller: AbortController;
    try {
      controller = await super.watch(path, queryParams, (phase: string, object: unknown, raw?: unknown) => {
        if (this.#stopped) return;
        this.#hooks.activity();
        if (!OBJECT_PHASES.has(phase)) {
          callback(phase, object, raw);
          return;
        }
        let decoded: unknown;
        try {
          decoded = this.#hooks.decode(object);
        } catch (error) {
          // Watch would swallow the throw as a parse error; at least say which object was skipped.
          this.#hooks.undecodable(phase, object, error);
          return;
        }
        callback(phase, decoded, raw);
      }, done);
    } catch (error) {
      done(error);
      return abortedController();
    }
    if (this.#stopped) controller.abort();
    else this.#active = controller;
    return controller;
  }

  stop(): void {
    this.#stopped = true;
    this.#active?.abort();
    this.#active = undefined;
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

/**
 * A cache of one resource kept current by list + watch (client-node's ListWatch), with what ListWatch
 * lacks for a controller: restart after errors with backoff, the previous object on updates, periodic
 * resync, a sync barrier and a stop that leaves no timer or socket behind.
 */
export class Informer<T extends KubernetesObject> {
  readonly name: string;
  readonly #options: InformerOptions<T>;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #resyncMs: number;
  readonly #store: InformerStore<T>;
  readonly #stopController = new AbortController();
  readonly #sync: SyncGate;
  readonly #stats: InformerStats = { lists: 0, errors: 0 };
  #state: 'new' | 'running' | 'stopped' = 'new';
  #listWatch: ListWatch<T> | undefined;
  #watch: InformerWatch | undefined;
  /** Consecutive failures, for the restart delay; reset by a successful list or any watch event. */
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  /** A list came back and ListWatch is applying it; the next watch it opens marks the cache synced. */
  #listApplied = false;

  constructor(options: InformerOptions<T>) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    if (!(backoff.baseMs > 0)) throw new InvalidOptionError('backoff.baseMs', 'must be positive');
    if (!(backoff.maxMs >= backoff.baseMs)) throw new InvalidOptionError('backoff.maxMs', 'must be at least backoff.baseMs');
    const resyncMs = options.resyncMs ?? 30_000;
    if (!(resyncMs >= 0)) throw new InvalidOptionError('resyncMs', 'must be 0 (off) or positive');
    this.name = options.name;
    this.#options = options;
    this.#backoff = backoff;
    this.#resyncMs = resyncMs;
    this.#log = (options.log ?? silentLogger).with({ informer: options.name });
    this.#sync = new SyncGate(options.name);
    this.#store = new InformerStore<T>(this.#log);
  }

  get hasSynced(): boolean {
    return this.#sync.open;
  }

  get stats(): InformerStats {
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
    const { kubeConfig, path, labelSelector, fieldSelector } = this.#options;
    const decode = this.#options.decode;
    this.#watch = new InformerWatch(kubeConfig, {
      opening: () => {
        if (!this.#listApplied) return;
        this.#listApplied = false;
        this.#markSynced();
      },
      activity: () => {
        this.#failures = 0;
      },
      decode: (raw) => (decode ? decode(raw) : raw),
      undecodable: (phase, raw, error) => {
        this.#log.error('skipped a watch event that does not decode', { phase, object: rawName(raw), error: describeError(error) });
      },
    });
    const listWatch = new ListWatch<T>(path, this.#watch, () => this.#list(), false, labelSelector, fieldSelector, {
      delayFn: (ms) => this.#reconnectDelay(ms),
    });
    listWatch.on('add', (obj) => this.#upsert(obj));
    listWatch.on('update', (obj) => this.#upsert(obj));
    listWatch.on('delete', (obj) => this.#remove(obj));
    listWatch.on('error', (error: unknown) => this.#failed(error));
    this.#listWatch = listWatch;
    this.#launch();
    if (this.#resyncMs > 0) this.#resyncTimer = setInterval(() => this.#resync(), this.#resyncMs);
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

  /** Idempotent. The cache keeps its last content; no event is delivered afterwards. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearTimeout(this.#restartTimer);
    clearInterval(this.#resyncTimer);
    this.#restartTimer = undefined;
    this.#resyncTimer = undefined;
    this.#stopController.abort();
    this.#watch?.stop();
    await this.#listWatch?.stop();
    this.#sync.fail();
  }

  #launch(): void {
    const listWatch = this.#listWatch;
    if (!listWatch || this.#state !== 'running') return;
    // ListWatch reports list and watch failures through its error callback; this catches anything else.
    listWatch.start().catch((error: unknown) => this.#failed(error));
  }

  async #list(): Promise<KubernetesListObject<T>> {
    const result = await this.#options.list(this.#stopController.signal);
    this.#stats.lists++;
    this.#failures = 0;
    this.#listApplied = true;
    return { items: result.items, metadata: { resourceVersion: result.metadata?.resourceVersion } };
  }

  /**
   * ListWatch stops for good after an error (other than 410 and client timeouts, which it handles),
   * so we start it again; it resumes the watch from its last resourceVersion, or relists if it had none.
   */
  #failed(error: unknown): void {
    if (this.#state !== 'running') return;
    this.#stats.errors++;
    this.#stats.lastError = describeError(error);
    if (this.#restartTimer) return;
    const delayMs = Math.round(backoffDelay(this.#failures++, this.#backoff.baseMs, this.#backoff.maxMs));
    this.#log.warn('list/watch failed; restarting', { error: this.#stats.lastError, retryInMs: delayMs });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#launch();
    }, delayMs);
  }

  /** ListWatch waits 1 s, 2 s, 4 s … between watches that end without events; follow our backoff instead. */
  async #reconnectDelay(ms: number): Promise<void> {
    const attempt = Math.max(0, Math.round(Math.log2(ms / LISTWATCH_BASE_DELAY_MS)));
    await sleep(backoffDelay(attempt, this.#backoff.baseMs, this.#backoff.maxMs), this.#stopController.signal);
  }

  #markSynced(): void {
    if (this.#sync.release()) this.#log.debug('synced', { objects: this.#store.size });
  }

  #upsert(obj: T): void {
    if (this.#state === 'running') this.#store.upsert(obj);
  }

  #remove(obj: T): void {
    if (this.#state === 'running') this.#store.remove(obj);
  }

  #resync(): void {
    if (this.#sync.open && this.#state === 'running') this.#store.resync();
  }
}
