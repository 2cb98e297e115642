import { silentLogger } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import { InvalidOptionError } from '@hostnic/runtime';
import { AlreadyRunningError } from './errors.ts';
import { describeError, isConflict, isNotFound, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import type { Lease, LeaseSpec } from './objects.ts';
import { sleep } from '@hostnic/runtime';

/** The calls the elector makes (the lean client has them). */
export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'replace'>;

export interface LeaderElectorOptions {
  client: LeaseClient;
  /** Where the coordination.k8s.io/v1 Lease lives. */
  namespace: string;
  name: string;
  /** Unique per replica (pod name); written as the lease holder. */
  identity: string;
  /** How long others wait after the last change they saw before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps acting without a successful renew. Default 10 s; below leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  log?: Logger;
  /** Local clock (ms). Only ever compared with itself, so clock skew between replicas does not matter. */
  now?: () => number;
}

export interface LeaderCallbacks {
  /**
   * Leadership began. The signal aborts when it ends; a returned promise should settle soon after,
   * because the lease is released, or leadership sought again, only once the leader's work has stopped.
   */
  onStartedLeading(leaderSignal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  /** The holder seen on the lease changed (this replica included). */
  onNewLeader?(identity: string): void;
}

/** client-go's wait.JitterUntil factor for acquire retries; also bounds retryPeriod against renewDeadline. */
const JITTER_FACTOR = 1.2;

/** The parts of a Lease that make up the leader election record. */
function recordKey(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? '', spec?.leaseDurationSeconds ?? null, spec?.acquireTime ?? '',
    spec?.renewTime ?? '', spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * A MicroTime as the apiserver requires it: RFC 3339 with six fractional digits (a Date's ISO text has three,
 * which a real apiserver rejects for Lease times).
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function holderOf(lease: Lease | undefined): string {
  return lease?.spec?.holderIdentity ?? '';
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: acquire when the lease
 * is absent, released or not renewed for its duration as measured by the local clock since the record
 * last changed; renew every retry period; give up after the renew deadline; release on shutdown.
 */
export class LeaderElector {
  readonly #client: LeaseClient;
  /** The Lease object's path; its collection for a create. */
  readonly #path: string;
  readonly #collection: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #running = false;
  #callbacks: LeaderCallbacks | undefined;
  /** The last Lease the server returned to us, for its resourceVersion (optimistic concurrency). */
  #lease: Lease | undefined;
  #observedKey: string | undefined;
  /** Local time when the record was first seen as it is now (client-go's observedTime). */
  #observedAt = 0;
  #reportedLeader: string | undefined;
  #leading = false;
  /** Local time at which the last successful acquire or renew request was sent. */
  #renewedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LeaderElectorOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    for (const [field, value] of [['namespace', options.namespace], ['name', options.name], ['identity', options.identity]] as const) {
      if (value === '') throw new InvalidOptionError(field, 'must not be empty');
    }
    if (!(retryPeriodMs > 0)) throw new InvalidOptionError('retryPeriodMs', 'must be positive');
    if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
      throw new InvalidOptionError('renewDeadlineMs', `must be greater than retryPeriodMs × ${JITTER_FACTOR} (${JITTER_FACTOR * retryPeriodMs} ms)`);
    }
    // The fencing margin: a leader that cannot renew stops acting leaseDuration - renewDeadline before
    // anyone else may take over.
    if (!(leaseDurationMs > renewDeadlineMs)) {
      throw new InvalidOptionError('leaseDurationMs', `must be greater than renewDeadlineMs (${renewDeadlineMs} ms)`);
    }
    this.#client = options.client;
    const leases = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: options.namespace };
    this.#collection = resourcePath(leases);
    this.#path = resourcePath({ ...leases, name: options.name });
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#leaseDurationMs = leaseDurationMs;
    this.#renewDeadlineMs = renewDeadlineMs;
    this.#retryPeriodMs = retryPeriodMs;
    this.#now = options.now ?? Date.now;
    this.#log = (options.log ?? silentLogger).with({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  get identity(): string {
    return this.#identity;
  }

  /** The holder on the lease as last seen ('' when released or not seen yet). */
  get observedLeader(): string {
    return holderOf(this.#lease);
  }

  /**
   * The fence for writes: true only while less than renewDeadline has passed since the last successful
   * renew was sent. Another replica waits a full lease duration from when it saw that renew, which is
   * later, so a leader cut off from the apiserver has stopped before anyone else starts.
   */
  isLeader(): boolean {
    return this.#leading && this.#now() < this.#renewedAt + this.#renewDeadlineMs;
  }

  /**
   * Campaigns until the signal aborts: acquire, lead (onStartedLeading), and after losing the lease
   * (onStoppedLeading) campaign again. On abort a held lease is released. Resolves once stopped.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new AlreadyRunningError('LeaderElector.run');
    this.#running = true;
    this.#callbacks = callbacks;
    try {
      while (!signal.aborted) {
        if (!(await this.#acquire(signal))) break;
        if (signal.aborted) {
          this.#leading = false;
          await this.#release();
          break;
        }
        await this.#lead(signal, callbacks);
      }
    } finally {
      this.#leading = false;
      this.#running = false;
      this.#callbacks = undefined;
    }
  }

  async #lead(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    this.#log.info('started leading');
    const leadership = new AbortController();
    let work: Promise<void>;
    try {
      work = Promise.resolve(callbacks.onStartedLeading(leadership.signal)).then(
        () => undefined,
        (error: unknown) => this.#log.error('onStartedLeading failed', { error: describeError(error) }),
      );
    } catch (error) {
      this.#log.error('onStartedLeading failed', { error: describeError(error) });
      work = Promise.resolve();
    }
    const outcome = await this.#renewUntilLost(signal);
    this.#leading = false;
    leadership.abort();
    if (outcome === 'aborted') {
      // Hand over at once, but only when our work has stopped: the next leader could start writing
      // immediately. Work that ignores the signal leaves the lease to expire instead.
      if (await settlesWithin(work, this.#renewDeadlineMs)) await this.#release();
      else this.#log.warn('leader work did not stop in time; leaving the lease to expire instead of releasing it');
    } else {
      this.#log.warn('stopped leading: could not renew the lease in time');
      // Never two leader sessions in one process.
      await work;
    }
    try {
      callbacks.onStoppedLeading?.();
    } catch (error) {
      this.#log.error('onStoppedLeading threw', { error: describeError(error) });
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const sentAt = await this.#tryAcquireOrRenew(this.#renewDeadlineMs);
      if (sentAt !== undefined) {
        this.#leading = true;
        this.#renewedAt = sentAt;
        return true;
      }
      await sleep(this.#retryPeriodMs * (1 + Math.random() * JITTER_FACTOR), signal);
    }
    return false;
  }

  async #renewUntilLost(signal: AbortSignal): Promise<'lost' | 'aborted'> {
    for (;;) {
      if (!(await sleep(this.#retryPeriodMs, signal))) return 'aborted';
      for (;;) {
        const remaining = this.#renewedAt + this.#renewDeadlineMs - this.#now();
        if (remaining <= 0) return 'lost';
        // The request must not outlive the deadline: past it we are no longer leader, whatever it returns.
        const sentAt = await this.#tryAcquireOrRenew(remaining);
        if (signal.aborted) return 'aborted';
        if (sentAt !== undefined) {
          this.#renewedAt = sentAt;
          break;
        }
        const holder = holderOf(this.#lease);
        if (holder !== '' && holder !== this.#identity) return 'lost';
        if (!(await sleep(Math.min(this.#retryPeriodMs, remaining), signal))) return 'aborted';
      }
    }
  }

  /** One round of client-go's tryAcquireOrRenew; returns when the successful request was sent. */
  async #tryAcquireOrRenew(timeoutMs: number): Promise<number | undefined> {
    const options = { timeoutMs };
    // Fast path: we hold the lease and wrote it last; a conflict means it changed and we must look.
    if (this.#leading && this.#lease && holderOf(this.#lease) === this.#identity) {
      const sentAt = this.#now();
      try {
        this.#observe(await this.#client.replace<Lease>(this.#path, this.#renewal(this.#lease, sentAt), options));
        return sentAt;
      } catch (error) {
        if (!isConflict(error)) {
          this.#log.warn('renewing the lease failed', { error: describeError(error) });
          return undefined;
        }
      }
    }

    let lease: Lease;
    try {
      lease = await this.#client.get<Lease>(this.#path, options);
    } catch (error) {
      if (!isNotFound(error)) {
        this.#log.warn('reading the lease failed', { error: describeError(error) });
        return undefined;
      }
      const sentAt = this.#now();
      try {
        const body: Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#name, namespace: this.#namespace },
          spec: this.#spec(sentAt, undefined),
        };
        this.#observe(await this.#client.create<Lease>(this.#collection, body, options));
        return sentAt;
      } catch (createError) {
        if (isConflict(createError)) this.#log.debug('another replica created the lease first');
        else this.#log.warn('creating the lease failed', { error: describeError(createError) });
        return undefined;
      }
    }

    this.#observe(lease);
    const holder = holderOf(lease);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.#leaseDurationMs / 1000) * 1000;
    if (holder !== '' && holder !== this.#identity && this.#now() < this.#observedAt + durationMs) return undefined;

    const sentAt = this.#now();
    try {
      this.#observe(await this.#client.replace<Lease>(this.#path, this.#renewal(lease, sentAt), options));
      if (holder !== this.#identity) this.#log.info('acquired the lease', { previousHolder: holder });
      return sentAt;
    } catch (error) {
      if (isConflict(error)) this.#log.debug('the lease changed while acquiring it');
      else this.#log.warn('updating the lease failed', { error: describeError(error) });
      return undefined;
    }
  }

  /** The lease with us as holder, renewed at `at`; acquireTime and transitions as client-go keeps them. */
  #renewal(lease: Lease, at: number): Lease {
    return { ...lease, spec: this.#spec(at, lease.spec) };
  }

  #spec(at: number, previous: LeaseSpec | undefined): LeaseSpec {
    const ours = previous !== undefined && holderOf({ spec: previous }) === this.#identity;
    const now = microTime(at);
    return {
      ...previous,
      holderIdentity: this.#identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: ours && previous.acquireTime !== undefined ? previous.acquireTime : now,
      renewTime: now,
      leaseTransitions: ours ? (previous.leaseTransitions ?? 0) : previous === undefined ? 0 : (previous.leaseTransitions ?? 0) + 1,
    };
  }

  /** client-go's ReleaseOnCancel: an empty holder and a 1 s duration let the next replica in at once. */
  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease || holderOf(lease) !== this.#identity) return;
    const now = microTime(this.#now());
    const body: Lease = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
    };
    try {
      this.#observe(await this.#client.replace<Lease>(this.#path, body, { timeoutMs: this.#renewDeadlineMs }));
      this.#log.info('released the lease');
    } catch (error) {
      // A conflict means someone else already holds it; otherwise it simply expires.
      this.#log.warn('releasing the lease failed', { error: describeError(error) });
    }
  }

  #observe(lease: Lease): void {
    this.#lease = lease;
    const key = recordKey(lease.spec);
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#now();
    }
    const holder = holderOf(lease);
    if (holder !== '' && holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      this.#log.info('new leader observed', { leader: holder });
      try {
        this.#callbacks?.onNewLeader?.(holder);
      } catch (error) {
        this.#log.error('onNewLeader threw', { error: describeError(error) });
      }
    }
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const settled = await Promise.race([promise.then(() => true), sleep(ms, timeout.signal).then(() => false)]);
  timeout.abort();
  return settled;
}
