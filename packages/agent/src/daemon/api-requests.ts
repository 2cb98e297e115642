/**
 * The apiserver requests a pod operation makes itself, apart from the background work running beside it (pod
 * cache watches, the claim's publish and refill, lease renewal): each operation runs in an async context of
 * its own, and every HTTP request the process starts (undici's and node:http's diagnostics channels) is counted
 * in the context it starts in, when it goes to the apiserver. What the ADD log line and the bench report as
 * "round trips per warm ADD" (goal 0, docs/pod-path.md).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';

/** Requests to the apiserver: reads are GETs (list and watch included), writes every other method. */
export interface ApiRequestCount {
  readonly reads: number;
  readonly writes: number;
}

interface Tally {
  reads: number;
  writes: number;
  /** Closed when the operation returned: a request started later (a straggler it left behind) is not its. */
  open: boolean;
}

/** undici's `undici:request:create` (fetch) and node:http's `http.client.request.start` (the Kubernetes and IaaS clients). */
const UNDICI_CHANNEL = 'undici:request:create';
const HTTP_CHANNEL = 'http.client.request.start';

/** The origin and method of an outgoing request as each channel describes it; undefined for another shape. */
export function requestOf(channel: string, message: unknown): { origin: string; method: string } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const request = (message as { request?: unknown }).request;
  if (typeof request !== 'object' || request === null) return undefined;
  if (channel === UNDICI_CHANNEL) {
    const { origin, method } = request as { origin?: unknown; method?: unknown };
    return typeof method === 'string' && (typeof origin === 'string' || origin instanceof URL) ? { origin: new URL(String(origin)).origin, method } : undefined;
  }
  const { protocol, method, getHeader } = request as { protocol?: unknown; method?: unknown; getHeader?: unknown };
  if (typeof protocol !== 'string' || typeof method !== 'string' || typeof getHeader !== 'function') return undefined;
  const host: unknown = (getHeader as (name: string) => unknown).call(request, 'host');
  return typeof host === 'string' ? { origin: new URL(`${protocol}//${host}`).origin, method } : undefined;
}

/** Counts, per pod operation, the requests it sends to one apiserver; see the module documentation. */
export class ApiRequestMeter {
  readonly #context = new AsyncLocalStorage<Tally>();
  readonly #origin: string;
  readonly #listeners: [string, (message: unknown) => void][];

  /** @param apiserver - the apiserver's URL (the kubeconfig's cluster server) */
  constructor(apiserver: string) {
    this.#origin = new URL(apiserver).origin;
    this.#listeners = [UNDICI_CHANNEL, HTTP_CHANNEL].map((channel) => [channel, (message: unknown) => this.#seen(channel, message)]);
    for (const [channel, listener] of this.#listeners) diagnosticsChannel.subscribe(channel, listener);
  }

  #seen(channel: string, message: unknown): void {
    const tally = this.#context.getStore();
    if (tally === undefined || !tally.open) return;
    const request = requestOf(channel, message);
    if (request === undefined || request.origin !== this.#origin) return;
    if (request.method === 'GET') tally.reads++;
    else tally.writes++;
  }

  /** Runs `fn` as an operation of its own; {@link ApiRequestMeter.current} inside it gives its count so far. */
  async measure<T>(fn: () => Promise<T>): Promise<T> {
    const tally: Tally = { reads: 0, writes: 0, open: true };
    try {
      return await this.#context.run(tally, fn);
    } finally {
      tally.open = false;
    }
  }

  /** The count of the operation this runs in; undefined outside one. */
  current(): ApiRequestCount | undefined {
    const tally = this.#context.getStore();
    return tally === undefined ? undefined : { reads: tally.reads, writes: tally.writes };
  }

  /** Runs `fn` outside any operation: background work an operation schedules (a timer) is not counted as its. */
  detached<T>(fn: () => T): T {
    return this.#context.exit(fn);
  }

  close(): void {
    for (const [channel, listener] of this.#listeners) diagnosticsChannel.unsubscribe(channel, listener);
  }
}
