/**
 * The pods of this node, kept by list + watch (field selector `spec.nodeName=<node>`), so that an ADD reads
 * its pod's annotations from memory instead of GETting it, as the original's informer did. A pod not (yet)
 * in the cache is read from the API; a failed watch is restarted with a growing delay.
 */
import { CoreV1Api, ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { DaemonLogger } from './log.ts';
import { errorText } from './log.ts';

export interface NodePodCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly log: DaemonLogger;
  /** First restart delay after a failed list or watch, doubled up to 30 s (default 1 s). */
  readonly retryMs?: number;
}

export class NodePodCache {
  readonly #o: NodePodCacheOptions;
  readonly #informer: ListWatch<V1Pod>;
  #synced = false;
  #markSynced: () => void = () => undefined;
  /** Resolves at the first list (readiness waits for it). */
  readonly whenSynced: Promise<void> = new Promise((resolve) => {
    this.#markSynced = resolve;
  });
  #stopped = false;
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: NodePodCacheOptions) {
    this.#o = options;
    this.#delayMs = options.retryMs ?? 1000;
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${options.nodeName}`;
    this.#informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(options.kubeConfig),
      async () => {
        const list = await core.listPodForAllNamespaces({ fieldSelector });
        this.#synced = true;
        this.#markSynced();
        this.#delayMs = options.retryMs ?? 1000;
        return list;
      },
      false,
      undefined,
      fieldSelector,
    );
    this.#informer.on('error', (e: unknown) => this.#restart(e));
  }

  /** True once the first list arrived. */
  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#informer.start().catch((e: unknown) => this.#restart(e));
  }

  #restart(e: unknown): void {
    if (this.#stopped) return;
    this.#o.log.warn('pod cache: list or watch failed; restarting', { error: errorText(e), retryInMs: this.#delayMs });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#stopped) this.start();
    }, this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * 2, 30_000);
  }

  /** The cached pod; undefined when the cache does not hold it (not synced, or not seen yet). */
  get(namespace: string, name: string): V1Pod | undefined {
    return this.#synced ? this.#informer.get(name, namespace) : undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#informer.stop();
  }
}
