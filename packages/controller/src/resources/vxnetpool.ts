/**
 * VxNetPool `v-pool` through the API: fresh reads and status writes with optimistic concurrency. Two writers
 * touch the status (the pool reconciler: ready, pools, Ready/Draining; the mapping workers: MappingValid,
 * SubnetsAvailable), so every write re-reads and merges instead of replacing a cached copy.
 */
import type { PoolInfo } from '@hostnic/ipam';
import { API_GROUP, API_VERSION, VXNET_POOL_NAME } from '@hostnic/ipam';
import type { Fence } from '../fence.ts';
import { canonicalJson } from '../json.ts';
import { httpStatusOf, isNotFound, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import type { Condition } from './conditions.ts';

export const VXNETPOOL_PLURAL = 'vxnetpools';

export interface VxNetPoolMeta {
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly deletionTimestamp?: string;
}

export interface VxNetPoolStatusBody {
  readonly ready: boolean;
  readonly pools?: readonly PoolInfo[];
  readonly message?: string;
  readonly process?: string;
  readonly conditions?: readonly Condition[];
}

/** As read: the spec is the user's and is validated by the reconciler, so it stays unknown-shaped here. */
export interface VxNetPoolObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: VxNetPoolMeta;
  readonly spec?: unknown;
  readonly status?: VxNetPoolStatusBody;
}

export class StatusConflictError extends Error {
  override name = 'StatusConflictError';
}

const REF = { group: API_GROUP, version: API_VERSION.split('/')[1] ?? 'v1alpha1', plural: VXNETPOOL_PLURAL } as const;

/** The calls the pool client makes (the lean client has them). */
export type VxNetPoolApi = Pick<KubeClient, 'get' | 'replace'>;

export class VxNetPoolClient {
  readonly #api: VxNetPoolApi;
  readonly #fence: Fence;
  /** Status writes that lost a race, for metrics. */
  conflicts = 0;

  constructor(api: VxNetPoolApi, fence: Fence) {
    this.#api = api;
    this.#fence = fence;
  }

  async get(name: string = VXNET_POOL_NAME): Promise<VxNetPoolObject | undefined> {
    try {
      return await this.#api.get<VxNetPoolObject>(resourcePath({ ...REF, name }));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Re-reads the pool and writes `mutate(status)` unless it equals the stored status; retried on 409.
   * @returns the status written or kept; undefined when the pool does not exist
   */
  async updateStatus(
    mutate: (status: VxNetPoolStatusBody | undefined, pool: VxNetPoolObject) => VxNetPoolStatusBody,
    name: string = VXNET_POOL_NAME,
  ): Promise<VxNetPoolStatusBody | undefined> {
    for (let attempt = 1; ; attempt++) {
      const pool = await this.get(name);
      if (pool === undefined) return undefined;
      const next = mutate(pool.status, pool);
      if (canonicalJson(next) === canonicalJson(pool.status)) return next;
      this.#fence.check('update VxNetPool status');
      try {
        await this.#api.replace(resourcePath({ ...REF, name, subresource: 'status' }), { ...pool, status: next });
        return next;
      } catch (e) {
        const status = httpStatusOf(e);
        if (status === 404) return undefined;
        if (status !== 409) throw e;
        this.conflicts++;
        if (attempt >= 5) throw new StatusConflictError(`VxNetPool ${name} status: 5 conflicting writes in a row; retried later`);
      }
    }
  }
}
