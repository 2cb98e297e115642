/**
 * The Kubernetes store: IPPools, IPAMBlocks and IPAMHandles as cluster-scoped custom objects of
 * `network.qingcloud.com/v1alpha1`, and the mapping ConfigMap `kube-system/hostnic-ipam-config`, through two
 * client interfaces shaped like client-node's `CustomObjectsApi` and `CoreV1Api`. This module loads no
 * Kubernetes client: `@hostnic/ipam/kubernetes/client-node` builds the two from a client-node KubeConfig, and
 * any other client (a leaner one) can implement them.
 *
 * Behaviour, precisely (the rules of `IpamStore` hold; this is how they map onto the API):
 *
 * | store call | API request | outcome |
 * | --- | --- | --- |
 * | `get*` | GET | 404 → `undefined`; `spec.deleted: true` → DELETE with `preconditions.resourceVersion` (404/409 ignored), then `undefined` |
 * | `list*` | LIST (label selector `ippool.network.qingcloud.com/name=<pool>` for `listBlocks({pool})`), pages of `pageSize`; or the list cache when it answers | marked objects finished off as for `get*` |
 * | `create*` | POST without server fields (`resourceVersion`, `uid`, ...) | 409 → `AlreadyExistsError` |
 * | `createBlock` | + GET of the IPPool named by the block's label, to add a controller owner reference (`blockOwnerDeletion: true`) | only when the block has no owner references and the pool exists |
 * | `update*` | PUT with `metadata.resourceVersion` = expected version | 409 → `ConflictError`, 404 → `NotFoundError` |
 * | `updatePool` | PUT of metadata and spec (the status subresource keeps the status) | as `update*` |
 * | `updatePoolStatus` | GET, then PUT `/status` with the expected version | as `update*` |
 * | `delete*` | DELETE with `preconditions.resourceVersion` when a version is given | 409 → `ConflictError`, 404 → `NotFoundError`; pools with finalizers stay until the finalizers go |
 * | `getIpamConfig` | GET ConfigMap | 404 → `undefined`; the version is its resourceVersion |
 * | `setIpamConfig(data, v)` | GET, then PUT with `resourceVersion` v (other fields of the ConfigMap kept) | 409 or another version → `ConflictError`, 404 → `NotFoundError` |
 * | `setIpamConfig(data)` | GET, then PUT at the version read, or POST when absent; repeated on 409 | |
 *
 * Every request is retried on transient failures (no HTTP answer, 429, 5xx) with jittered backoff, a bounded
 * number of times, then fails with `StoreUnavailableError`; 403, 422 and other statuses fail at once with
 * `StoreRejectedError`. A write retried after a transient failure may have been applied by the first try; when
 * the retry then meets 409 (create, update) or 404 (delete), the store reads the object back and reports
 * success if it holds exactly what was written.
 *
 * Reads go to the API server (`get*` always; `list*` unless a list cache answers), so `get*` is as fresh as
 * the API server's storage. An informer cache fits the `listCache` seam.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../../errors.ts';
import type { IpamConfigData, IpamStore, ListBlocksOptions, Versioned } from '../../store.ts';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  StoreKind,
  StoreRejectedError,
} from '../../store-errors.ts';
import type { IPAMBlock, IPAMHandle, IPPool, IPPoolStatus } from '../../types.ts';
import { API_VERSION, IPAM_CONFIGMAP_NAME, IPAM_CONFIGMAP_NAMESPACE, LABEL_POOL_NAME } from '../../types.ts';
import { checkObjectName, IPAM_CONFIG_OBJECT_NAME, isMarkedDeleted, jsonCopy, poolWithoutStatus } from '../objects.ts';
import type { CallOutcome, CallSettings, RetryOptions } from './calls.ts';
import { call, callSettings, statusMessageOf } from './calls.ts';
import type { CustomKind, JsonObject } from './resources.ts';
import { canonicalJson, configMapData, fromApiObject, isObject, RESOURCES, toApiObject } from './resources.ts';

/** Group, version and plural of a cluster-scoped custom resource. */
export interface ClusterResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** The body of a DELETE: the store sends only a resourceVersion precondition. */
export interface DeleteOptionsBody {
  readonly preconditions?: { readonly resourceVersion?: string; readonly uid?: string };
}

/** The fields of a ConfigMap the store reads and writes (an answer may carry more). */
export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: { [key: string]: string };
}

/**
 * The part of client-node's `CustomObjectsApi` the store uses (a test double or another client can stand
 * in). A failure with an HTTP answer throws an error with the numeric status in `code` and the Status in
 * `body` (object or JSON text), as client-node's ApiException; one without an answer has no numeric `code`.
 */
export interface CustomObjectsClient {
  getClusterCustomObject(param: ClusterResourceRef & { name: string }): Promise<unknown>;
  listClusterCustomObject(
    param: ClusterResourceRef & { labelSelector?: string; limit?: number; _continue?: string },
  ): Promise<unknown>;
  createClusterCustomObject(param: ClusterResourceRef & { body: object }): Promise<unknown>;
  replaceClusterCustomObject(param: ClusterResourceRef & { name: string; body: object }): Promise<unknown>;
  replaceClusterCustomObjectStatus(param: ClusterResourceRef & { name: string; body: object }): Promise<unknown>;
  deleteClusterCustomObject(param: ClusterResourceRef & { name: string; body?: DeleteOptionsBody }): Promise<unknown>;
}

/** The part of client-node's `CoreV1Api` the store uses; errors as for {@link CustomObjectsClient}. */
export interface ConfigMapsClient {
  readNamespacedConfigMap(param: { name: string; namespace: string }): Promise<ConfigMapObject>;
  createNamespacedConfigMap(param: { namespace: string; body: ConfigMapObject }): Promise<ConfigMapObject>;
  replaceNamespacedConfigMap(param: { name: string; namespace: string; body: ConfigMapObject }): Promise<ConfigMapObject>;
}

/**
 * A source of lists that may lag behind the API server, e.g. informer caches. Return undefined when it cannot
 * answer (not synced yet); the store then lists from the API.
 */
export interface KubernetesListCache {
  /**
   * The raw API objects of a resource, optionally filtered by an equality label selector `key=value`.
   * @param plural - `ippools`, `ipamblocks` or `ipamhandles`
   * @param labelSelector - the selector, when the store filters
   */
  list(plural: string, labelSelector: string | undefined): readonly unknown[] | undefined;
}

/** Options of {@link KubernetesIpamStore}. */
export interface KubernetesStoreOptions {
  /** Retries of transient failures (default: 5 tries, 100 ms … 2 s jittered backoff). */
  readonly retry?: RetryOptions;
  /** List page size (default 500). */
  readonly pageSize?: number;
  /** Where `list*` may read from instead of the API. */
  readonly listCache?: KubernetesListCache;
  /** Jitter source (default `Math.random`). */
  readonly random?: () => number;
  /** How to wait between retries (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The API clients of the store. */
export interface KubernetesClients {
  /** For the CRDs. */
  readonly customObjects: CustomObjectsClient;
  /** For the mapping ConfigMap. */
  readonly configMaps: ConfigMapsClient;
}

const CONFIG_REF = { name: IPAM_CONFIGMAP_NAME, namespace: IPAM_CONFIGMAP_NAMESPACE };

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sameContent(a: unknown, b: unknown): boolean {
  const pick = (o: unknown): unknown => {
    const v = o as { metadata?: { labels?: unknown }; spec?: unknown; status?: unknown } | undefined;
    return { labels: v?.metadata?.labels ?? {}, spec: v?.spec, status: v?.status };
  };
  return canonicalJson(pick(a)) === canonicalJson(pick(b));
}

/** An {@link IpamStore} on the Kubernetes API. */
export class KubernetesIpamStore implements IpamStore {
  readonly #objects: CustomObjectsClient;
  readonly #configMaps: ConfigMapsClient;
  readonly #settings: CallSettings;
  readonly #pageSize: number;
  readonly #listCache: KubernetesListCache | undefined;

  /**
   * @param clients - the API clients (`clientNodeClients(kc)` of `@hostnic/ipam/kubernetes/client-node`, or another's)
   * @param options - retries, paging, list cache
   */
  constructor(clients: KubernetesClients, options: KubernetesStoreOptions = {}) {
    this.#objects = clients.customObjects;
    this.#configMaps = clients.configMaps;
    this.#settings = callSettings(options.retry ?? {}, options.random ?? Math.random, options.sleep ?? sleepMs);
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new InvalidArgumentError('pageSize', `must be an integer ≥ 1, got ${pageSize}`);
    this.#pageSize = pageSize;
    this.#listCache = options.listCache;
  }

  getPool(name: string): Promise<Versioned<IPPool> | undefined> {
    return this.#get<IPPool>('IPPool', name);
  }

  listPools(): Promise<Versioned<IPPool>[]> {
    return this.#list<IPPool>('IPPool', undefined);
  }

  createPool(pool: IPPool): Promise<Versioned<IPPool>> {
    return this.#create<IPPool>('IPPool', poolWithoutStatus(pool));
  }

  updatePool(pool: IPPool, expectedVersion: string): Promise<Versioned<IPPool>> {
    return this.#replace<IPPool>('IPPool', poolWithoutStatus(pool), expectedVersion, false);
  }

  async updatePoolStatus(name: string, status: IPPoolStatus, expectedVersion: string): Promise<Versioned<IPPool>> {
    checkObjectName(StoreKind.IPPool, name);
    const current = await this.#get<IPPool>('IPPool', name);
    if (current === undefined) throw new NotFoundError(StoreKind.IPPool, name);
    if (current.version !== expectedVersion) throw new ConflictError(StoreKind.IPPool, name, expectedVersion);
    return this.#replace<IPPool>('IPPool', { ...current.object, status }, expectedVersion, true);
  }

  deletePool(name: string, expectedVersion?: string): Promise<void> {
    return this.#delete('IPPool', name, expectedVersion);
  }

  getBlock(name: string): Promise<Versioned<IPAMBlock> | undefined> {
    return this.#get<IPAMBlock>('IPAMBlock', name);
  }

  listBlocks(options: ListBlocksOptions = {}): Promise<Versioned<IPAMBlock>[]> {
    return this.#list<IPAMBlock>('IPAMBlock', options.pool === undefined ? undefined : `${LABEL_POOL_NAME}=${options.pool}`);
  }

  async createBlock(block: IPAMBlock): Promise<Versioned<IPAMBlock>> {
    return this.#create<IPAMBlock>('IPAMBlock', await this.#withOwner(block));
  }

  updateBlock(block: IPAMBlock, expectedVersion: string): Promise<Versioned<IPAMBlock>> {
    return this.#replace<IPAMBlock>('IPAMBlock', block, expectedVersion, false);
  }

  deleteBlock(name: string, expectedVersion?: string): Promise<void> {
    return this.#delete('IPAMBlock', name, expectedVersion);
  }

  getHandle(name: string): Promise<Versioned<IPAMHandle> | undefined> {
    return this.#get<IPAMHandle>('IPAMHandle', name);
  }

  listHandles(): Promise<Versioned<IPAMHandle>[]> {
    return this.#list<IPAMHandle>('IPAMHandle', undefined);
  }

  createHandle(handle: IPAMHandle): Promise<Versioned<IPAMHandle>> {
    return this.#create<IPAMHandle>('IPAMHandle', handle);
  }

  updateHandle(handle: IPAMHandle, expectedVersion: string): Promise<Versioned<IPAMHandle>> {
    return this.#replace<IPAMHandle>('IPAMHandle', handle, expectedVersion, false);
  }

  deleteHandle(name: string, expectedVersion?: string): Promise<void> {
    return this.#delete('IPAMHandle', name, expectedVersion);
  }

  async getIpamConfig(): Promise<Versioned<IpamConfigData> | undefined> {
    const raw = await this.#readConfigMap();
    return raw === undefined ? undefined : configMapData(raw);
  }

  async setIpamConfig(data: IpamConfigData, expectedVersion?: string): Promise<Versioned<IpamConfigData>> {
    if (!isObject(data) || !Object.values(data).every((v) => typeof v === 'string')) {
      throw new InvalidArgumentError('data', 'of the IPAM ConfigMap must map keys to strings');
    }
    for (let attempt = 1; ; attempt++) {
      const current = await this.#readConfigMap();
      if (expectedVersion !== undefined) {
        if (current === undefined) throw new NotFoundError(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME);
        if (current.metadata?.resourceVersion !== expectedVersion) {
          throw new ConflictError(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, expectedVersion);
        }
      }
      const written =
        current === undefined
          ? await this.#configCall('create', () =>
              this.#configMaps.createNamespacedConfigMap({ namespace: CONFIG_REF.namespace, body: { metadata: { ...CONFIG_REF }, data: { ...data } } }),
            )
          : await this.#configCall('update', () =>
              this.#configMaps.replaceNamespacedConfigMap({ ...CONFIG_REF, body: { ...current, data: { ...data } } }),
            );
      if (written.ok) return configMapData(written.value);
      const lost = written.status === 409 || (written.status === 404 && expectedVersion === undefined);
      if (expectedVersion === undefined && lost && attempt < this.#settings.attempts) continue;
      if (written.status === 409) throw new ConflictError(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, expectedVersion);
      if (written.status === 404) throw new NotFoundError(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME);
      throw this.#rejected(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, 'setIpamConfig', written);
    }
  }

  async close(): Promise<void> {
    // The clients are the caller's, and so are their connections: it closes them.
  }

  #call<T>(kind: StoreKind, name: string, operation: string, run: () => Promise<T>): Promise<CallOutcome<T>> {
    return call(this.#settings, { kind, name, operation }, run);
  }

  #rejected(kind: StoreKind, name: string, operation: string, outcome: { status: number; error: unknown }): StoreRejectedError {
    return new StoreRejectedError(kind, name, operation, outcome.status, statusMessageOf(outcome.error), { cause: outcome.error });
  }

  async #raw(kind: CustomKind, name: string): Promise<Versioned<JsonObject> | undefined> {
    const outcome = await this.#call(kind, name, 'get', () => this.#objects.getClusterCustomObject({ ...RESOURCES[kind], name }));
    if (outcome.ok) return fromApiObject<JsonObject>(kind, outcome.value);
    if (outcome.status === 404) return undefined;
    throw this.#rejected(kind, name, 'get', outcome);
  }

  async #get<T>(kind: CustomKind, name: string): Promise<Versioned<T> | undefined> {
    const found = await this.#raw(kind, name);
    if (found === undefined) return undefined;
    if (isMarkedDeleted(found.object)) {
      await this.#finish(kind, name, found.version);
      return undefined;
    }
    return found as Versioned<T>;
  }

  /** Deletes an object marked by the Go version at the version it was read; losing that race is fine. */
  async #finish(kind: CustomKind, name: string, version: string): Promise<void> {
    const body: DeleteOptionsBody = { preconditions: { resourceVersion: version } };
    const outcome = await this.#call(kind, name, 'delete', () => this.#objects.deleteClusterCustomObject({ ...RESOURCES[kind], name, body }));
    if (!outcome.ok && outcome.status !== 404 && outcome.status !== 409) throw this.#rejected(kind, name, 'delete', outcome);
  }

  async #list<T>(kind: CustomKind, labelSelector: string | undefined): Promise<Versioned<T>[]> {
    const resource = RESOURCES[kind];
    const cached = this.#listCache?.list(resource.plural, labelSelector);
    // Objects of a cache are shared with it: hand out copies, as the store contract promises.
    const items = cached === undefined ? await this.#listFromApi(kind, labelSelector) : cached.map((item) => jsonCopy(item));
    const out: Versioned<T>[] = [];
    for (const item of items) {
      const found = fromApiObject<T>(kind, item);
      if (isMarkedDeleted(found.object)) await this.#finish(kind, (found.object as { metadata: { name: string } }).metadata.name, found.version);
      else out.push(found);
    }
    return out;
  }

  async #listFromApi(kind: CustomKind, labelSelector: string | undefined): Promise<unknown[]> {
    const items: unknown[] = [];
    let next: string | undefined;
    do {
      const page: { labelSelector?: string; limit: number; _continue?: string } = { limit: this.#pageSize };
      if (labelSelector !== undefined) page.labelSelector = labelSelector;
      if (next !== undefined) page._continue = next;
      const outcome = await this.#call(kind, '', 'list', () => this.#objects.listClusterCustomObject({ ...RESOURCES[kind], ...page }));
      if (!outcome.ok) throw this.#rejected(kind, '', 'list', outcome);
      const value = outcome.value as { items?: unknown; metadata?: { continue?: unknown } } | null;
      if (Array.isArray(value?.items)) items.push(...(value.items as unknown[]));
      const token = value?.metadata?.continue;
      next = typeof token === 'string' && token !== '' ? token : undefined;
    } while (next !== undefined);
    return items;
  }

  async #create<T extends { readonly metadata: { readonly name: string } }>(kind: CustomKind, object: T): Promise<Versioned<T>> {
    const name = checkObjectName(kind, object.metadata.name);
    const body = toApiObject(kind, object as unknown as { metadata: object; spec: object }, undefined);
    const outcome = await this.#call(kind, name, 'create', () => this.#objects.createClusterCustomObject({ ...RESOURCES[kind], body }));
    if (outcome.ok) return fromApiObject<T>(kind, outcome.value);
    if (outcome.status === 409) {
      if (outcome.retried) {
        const current = await this.#raw(kind, name);
        if (current !== undefined && sameContent(current.object, body)) return current as unknown as Versioned<T>;
      }
      throw new AlreadyExistsError(kind, name, { cause: outcome.error });
    }
    throw this.#rejected(kind, name, 'create', outcome);
  }

  async #replace<T extends { readonly metadata: { readonly name: string } }>(
    kind: CustomKind,
    object: T,
    expectedVersion: string,
    status: boolean,
  ): Promise<Versioned<T>> {
    const name = checkObjectName(kind, object.metadata.name);
    const body = toApiObject(kind, object as unknown as { metadata: object; spec: object; status?: object }, expectedVersion, status);
    const ref = { ...RESOURCES[kind], name, body };
    const operation = status ? 'updateStatus' : 'update';
    const outcome = await this.#call(kind, name, operation, () =>
      status ? this.#objects.replaceClusterCustomObjectStatus(ref) : this.#objects.replaceClusterCustomObject(ref),
    );
    if (outcome.ok) return fromApiObject<T>(kind, outcome.value);
    if (outcome.status === 409) {
      if (outcome.retried) {
        const current = await this.#raw(kind, name);
        if (current !== undefined && current.version !== expectedVersion && sameContent(current.object, body)) {
          return current as unknown as Versioned<T>;
        }
      }
      throw new ConflictError(kind, name, expectedVersion, { cause: outcome.error });
    }
    if (outcome.status === 404) throw new NotFoundError(kind, name, { cause: outcome.error });
    throw this.#rejected(kind, name, operation, outcome);
  }

  async #delete(kind: CustomKind, name: string, expectedVersion: string | undefined): Promise<void> {
    const param: ClusterResourceRef & { name: string; body?: DeleteOptionsBody } = { ...RESOURCES[kind], name };
    if (expectedVersion !== undefined) param.body = { preconditions: { resourceVersion: expectedVersion } };
    const outcome = await this.#call(kind, name, 'delete', () => this.#objects.deleteClusterCustomObject(param));
    if (outcome.ok) return;
    // A retried delete that finds nothing deleted it on an earlier try.
    if (outcome.status === 404 && outcome.retried) return;
    if (outcome.status === 404) throw new NotFoundError(kind, name, { cause: outcome.error });
    if (outcome.status === 409) throw new ConflictError(kind, name, expectedVersion, { cause: outcome.error });
    throw this.#rejected(kind, name, 'delete', outcome);
  }

  /** The block with a controller owner reference to its IPPool, so deleting the pool collects the block. */
  async #withOwner(block: IPAMBlock): Promise<IPAMBlock> {
    const owners = (block.metadata as { ownerReferences?: unknown }).ownerReferences;
    const poolName = block.metadata.labels?.[LABEL_POOL_NAME];
    if ((Array.isArray(owners) && owners.length > 0) || poolName === undefined) return block;
    const pool = await this.#raw('IPPool', poolName);
    const uid = (pool?.object.metadata as { uid?: unknown } | undefined)?.uid;
    if (typeof uid !== 'string') return block;
    const ownerReferences = [{ apiVersion: API_VERSION, kind: 'IPPool', name: poolName, uid, controller: true, blockOwnerDeletion: true }];
    return { ...block, metadata: { ...block.metadata, ownerReferences } as IPAMBlock['metadata'] };
  }

  async #readConfigMap(): Promise<ConfigMapObject | undefined> {
    const outcome = await this.#configCall('get', () => this.#configMaps.readNamespacedConfigMap({ ...CONFIG_REF }));
    if (outcome.ok) return outcome.value;
    if (outcome.status === 404) return undefined;
    throw this.#rejected(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, 'get', outcome);
  }

  #configCall<T>(operation: string, run: () => Promise<T>): Promise<CallOutcome<T>> {
    return this.#call(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, operation, run);
  }
}
