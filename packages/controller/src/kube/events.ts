import { silentLogger } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import { InvalidOptionError } from '@hostnic/runtime';
import { describeError, isNotFound, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import type { CoreEvent } from './objects.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about; any API object with apiVersion and kind fits. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** The calls the recorder makes (the lean client has them). */
export type EventClient = Pick<KubeClient, 'create' | 'patch'>;

export interface EventRecorderOptions {
  client: EventClient;
  /** This replica; written as reportingInstance. */
  identity: string;
  /** source.component and reportingComponent. Default `hostnic-controller`. */
  component?: string;
  /** source.host, if any. */
  host?: string;
  /** Events waiting to be written; more are dropped. Default 1000. */
  maxQueue?: number;
  /** A repeat within this time bumps the existing Event's count. Default 10 min. */
  aggregationWindowMs?: number;
  /** Per object: this many events at once, then one per refillMs (client-go: 25, then one per 5 min). */
  rateLimit?: { burst: number; refillMs: number };
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface EventRecorderStats {
  created: number;
  /** Repeats folded into an existing Event's count. */
  aggregated: number;
  /** Refused by the per-object rate limit, the full queue, or close(). */
  dropped: number;
  /** Writes the apiserver refused or that did not reach it. */
  failed: number;
}

interface Job {
  readonly subject: EventSubject;
  readonly subjectKey: string;
  readonly namespace: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly at: number;
}

interface Aggregate {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastAt: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Bounds on the correlation caches, as client-go's LRU. */
const MAX_TRACKED = 4096;
/** client-go truncates messages of Events it aggregates to this. */
const MAX_MESSAGE = 1024;

/**
 * Writes core/v1 Events without ever blocking or failing the caller: events go through a bounded
 * queue to one background writer. Like client-go's EventCorrelator it folds repeats into the existing
 * Event's count and limits events per object, so a hot reconcile loop cannot flood the apiserver.
 */
export class EventRecorder {
  readonly #client: EventClient;
  readonly #identity: string;
  readonly #component: string;
  readonly #host: string | undefined;
  readonly #maxQueue: number;
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #queue: Job[] = [];
  readonly #aggregates = new Map<string, Aggregate>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #stats: EventRecorderStats = { created: 0, aggregated: 0, dropped: 0, failed: 0 };
  /** Aborts in-flight writes when close() gives up waiting. */
  readonly #closing = new AbortController();
  #writer: Promise<void> | undefined;
  #closed = false;
  #overflowing = false;
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    if (options.identity === '') throw new InvalidOptionError('identity', 'must not be empty');
    const rateLimit = options.rateLimit ?? { burst: 25, refillMs: 300_000 };
    if (!(rateLimit.burst >= 1)) throw new InvalidOptionError('rateLimit.burst', 'must be at least 1');
    if (!(rateLimit.refillMs > 0)) throw new InvalidOptionError('rateLimit.refillMs', 'must be positive');
    this.#client = options.client;
    this.#identity = options.identity;
    this.#component = options.component ?? 'hostnic-controller';
    this.#host = options.host;
    this.#maxQueue = options.maxQueue ?? 1000;
    this.#windowMs = options.aggregationWindowMs ?? 600_000;
    this.#burst = rateLimit.burst;
    this.#refillMs = rateLimit.refillMs;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#log = options.log ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  get stats(): EventRecorderStats {
    return { ...this.#stats };
  }

  /** Queues an Event; returns at once and never throws. */
  event(object: EventSubject, type: EventType, reason: string, message: string): void {
    try {
      if (this.#closed) {
        this.#stats.dropped++;
        return;
      }
      const at = this.#now();
      const { metadata } = object;
      const subjectKey = metadata.uid || `${object.apiVersion}/${object.kind}/${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
      if (!this.#takeToken(subjectKey, at)) {
        this.#stats.dropped++;
        this.#log.debug('event dropped by the per-object rate limit', { object: subjectKey, reason });
        return;
      }
      if (this.#queue.length >= this.#maxQueue) {
        this.#stats.dropped++;
        // One line per overflow episode, not one per dropped event.
        if (!this.#overflowing) this.#log.warn('event queue full; dropping events', { maxQueue: this.#maxQueue });
        this.#overflowing = true;
        return;
      }
      this.#overflowing = false;
      // kubectl shows Events of cluster-scoped objects in `default`, where client-go puts them.
      const namespace = metadata.namespace || 'default';
      this.#queue.push({ subject: object, subjectKey, namespace, type, reason, message, at });
      this.#startWriter();
    } catch (error) {
      this.#log.error('recording an event failed', { reason, error: describeError(error) });
    }
  }

  /** Resolves once every queued Event has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.#writer) await this.#writer;
  }

  /**
   * Refuses further events and waits up to `timeoutMs` for the queued ones; what is left after that is
   * dropped and the write in flight aborted, so that shutdown is not held up by an unreachable apiserver.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const gaveUp = await Promise.race([this.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (gaveUp) {
      this.#stats.dropped += this.#queue.length;
      if (this.#queue.length > 0) this.#log.warn('dropping unwritten events at close', { count: this.#queue.length });
      this.#queue.length = 0;
      this.#closing.abort();
      await this.flush();
    }
  }

  #takeToken(subjectKey: string, at: number): boolean {
    const bucket = this.#buckets.get(subjectKey) ?? { tokens: this.#burst, updatedAt: at };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, at - bucket.updatedAt) / this.#refillMs);
    bucket.updatedAt = at;
    remember(this.#buckets, subjectKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #startWriter(): void {
    if (this.#writer) return;
    this.#writer = (async () => {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) await this.#write(job);
    })().finally(() => {
      this.#writer = undefined;
    });
  }

  async #write(job: Job): Promise<void> {
    const aggregateKey = JSON.stringify([job.subjectKey, job.type, job.reason, job.message]);
    const options = { signal: this.#closing.signal, timeoutMs: this.#timeoutMs };
    const existing = this.#aggregates.get(aggregateKey);
    if (existing && job.at - existing.lastAt <= this.#windowMs) {
      const count = existing.count + 1;
      try {
        await this.#client.patch(eventPath(existing.namespace, existing.name), { count, lastTimestamp: new Date(job.at).toISOString() }, 'merge', options);
        existing.count = count;
        existing.lastAt = job.at;
        remember(this.#aggregates, aggregateKey, existing);
        this.#stats.aggregated++;
        return;
      } catch (error) {
        // Events expire (one hour by default); a repeat after that starts a new one.
        if (!isNotFound(error)) {
          this.#fail(job, error);
          return;
        }
        this.#aggregates.delete(aggregateKey);
      }
    }
    const body = this.#newEvent(job);
    try {
      await this.#client.create(eventPath(job.namespace), body, options);
      remember(this.#aggregates, aggregateKey, { name: body.metadata.name, namespace: job.namespace, count: 1, lastAt: job.at });
      this.#stats.created++;
    } catch (error) {
      this.#fail(job, error);
    }
  }

  #newEvent(job: Job): CoreEvent & { metadata: { name: string } } {
    const { subject } = job;
    const { name, namespace, uid, resourceVersion } = subject.metadata;
    const at = new Date(job.at).toISOString();
    // client-go names Events <object>.<unix nanos in hex>; the sequence keeps names unique within a millisecond.
    const suffix = (BigInt(job.at) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16);
    const base = (name || subject.kind.toLowerCase()).slice(0, 253 - suffix.length - 1);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${base}.${suffix}`, namespace: job.namespace },
      involvedObject: { apiVersion: subject.apiVersion, kind: subject.kind, name, namespace, uid, resourceVersion },
      type: job.type,
      reason: job.reason,
      message: job.message.length > MAX_MESSAGE ? `${job.message.slice(0, MAX_MESSAGE - 3)}...` : job.message,
      source: { component: this.#component, ...(this.#host === undefined ? {} : { host: this.#host }) },
      reportingComponent: this.#component,
      reportingInstance: this.#identity,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
  }

  #fail(job: Job, error: unknown): void {
    this.#stats.failed++;
    this.#log.warn('writing an event failed', { object: job.subjectKey, reason: job.reason, error: describeError(error) });
  }
}

function eventPath(namespace: string, name?: string): string {
  return resourcePath({ version: 'v1', plural: 'events', namespace, name });
}

/** Map insertion order as an LRU: touch on use, evict the oldest beyond the bound. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
