/**
 * The storage interface of the IPAM: where pools, blocks, handles and the namespace mapping live.
 *
 * Three implementations ship with the package: `MemoryIpamStore` (tests, one process), `LmdbIpamStore`
 * (`@hostnic/ipam/lmdb`: one host, several processes) and `KubernetesIpamStore` (`@hostnic/ipam/kubernetes`:
 * the cluster's CRDs). Anything else (etcd, SQL, ...) can implement this interface; the contract suite in
 * `@hostnic/ipam/testing` checks an implementation against the rules below.
 *
 * ## Rules for implementers
 *
 * **Versions.** Every stored object has an opaque version string, returned with each read and write. A write
 * that names an expected version succeeds only when it is still the object's current version, atomically
 * (compare-and-swap); otherwise it throws {@link ConflictError} and changes nothing. Every successful write
 * gives the object a version it never had before, also across delete and re-create (so a writer holding the
 * version of a deleted object can never overwrite its successor).
 *
 * **Errors.** Creating an existing object throws {@link AlreadyExistsError}; updating or deleting a missing
 * one throws {@link NotFoundError}; a transient failure (network, 5xx, lock timeout) that survived the store's
 * own bounded retries throws {@link StoreUnavailableError}. Reads report a missing object as `undefined`.
 * Invalid input (an object name that is not a lower-case RFC 1123 subdomain) throws `InvalidArgumentError`.
 *
 * **Copies.** Objects go in and come out as plain JSON data (no `undefined` values, no class instances).
 * A store never keeps a reference to an object it was given nor hands out one it keeps: callers may freeze or
 * mutate what they pass or receive. Metadata fields the IPAM does not model (annotations, finalizers, owner
 * references, uid, ...) are kept as given and returned on reads, so read-modify-write preserves them.
 *
 * **Freshness.** `get*` returns the latest committed state (the allocator re-reads with `get*` after a
 * conflict, so a stale `get*` would make it retry in vain). `list*` may lag behind, e.g. when served from an
 * informer cache: the allocator only uses listed objects to choose, and the compare-and-swap catches staleness.
 *
 * **Deleted markers.** The Go hostnic deleted blocks and handles in two writes: first `spec.deleted: true`,
 * then DELETE. An object found with `spec.deleted: true` is finished off by the store (deleted, with its
 * version as precondition) and reported as absent, by `get*` and `list*` alike. This package never writes
 * such markers itself: a delete with a version precondition does the same job in one write.
 *
 * **Pool status.** As with the Kubernetes status subresource: `createPool` drops `status`, `updatePool` writes
 * metadata and spec and keeps the stored status, `updatePoolStatus` writes only the status. Every one of them
 * gives the pool a new version.
 *
 * @packageDocumentation
 */
import type { IPAMBlock, IPAMHandle, IPPool, IPPoolStatus } from './types.ts';

/** An object and the version it was read or written at. */
export interface Versioned<T> {
  /** The object, a copy owned by the caller. */
  readonly object: T;
  /** The opaque version (a Kubernetes `resourceVersion`, an lmdb revision, ...). */
  readonly version: string;
}

/** Filter of {@link IpamStore.listBlocks}. */
export interface ListBlocksOptions {
  /** Only blocks labelled `ippool.network.qingcloud.com/name: <pool>`. */
  readonly pool?: string;
}

/** The `data` of ConfigMap `kube-system/hostnic-ipam-config` (keys `subnet-auto-assign`, `ipam`). */
export type IpamConfigData = Readonly<Record<string, string>>;

/** Storage of the IPAM objects with compare-and-swap writes. See the module documentation for the rules. */
export interface IpamStore {
  /** Reads one pool; undefined when absent. */
  getPool(name: string): Promise<Versioned<IPPool> | undefined>;
  /** Every pool, in no particular order. */
  listPools(): Promise<Versioned<IPPool>[]>;
  /** Creates a pool (its `status` is dropped). @throws AlreadyExistsError */
  createPool(pool: IPPool): Promise<Versioned<IPPool>>;
  /** Replaces a pool's metadata and spec, keeping its status. @throws ConflictError, NotFoundError */
  updatePool(pool: IPPool, expectedVersion: string): Promise<Versioned<IPPool>>;
  /** Replaces a pool's status only. @throws ConflictError, NotFoundError */
  updatePoolStatus(name: string, status: IPPoolStatus, expectedVersion: string): Promise<Versioned<IPPool>>;
  /** Deletes a pool, only at `expectedVersion` when given. @throws ConflictError, NotFoundError */
  deletePool(name: string, expectedVersion?: string): Promise<void>;

  /** Reads one block; undefined when absent (or marked deleted, which is then finished off). */
  getBlock(name: string): Promise<Versioned<IPAMBlock> | undefined>;
  /** Blocks, optionally of one pool (by label), in no particular order; may lag behind `getBlock`. */
  listBlocks(options?: ListBlocksOptions): Promise<Versioned<IPAMBlock>[]>;
  /** Creates a block. @throws AlreadyExistsError */
  createBlock(block: IPAMBlock): Promise<Versioned<IPAMBlock>>;
  /** Replaces a block if it is still at `expectedVersion`. @throws ConflictError, NotFoundError */
  updateBlock(block: IPAMBlock, expectedVersion: string): Promise<Versioned<IPAMBlock>>;
  /** Deletes a block, only at `expectedVersion` when given. @throws ConflictError, NotFoundError */
  deleteBlock(name: string, expectedVersion?: string): Promise<void>;

  /** Reads one handle; undefined when absent (or marked deleted, which is then finished off). */
  getHandle(name: string): Promise<Versioned<IPAMHandle> | undefined>;
  /** Every handle, in no particular order; may lag behind `getHandle`. */
  listHandles(): Promise<Versioned<IPAMHandle>[]>;
  /** Creates a handle. @throws AlreadyExistsError */
  createHandle(handle: IPAMHandle): Promise<Versioned<IPAMHandle>>;
  /** Replaces a handle if it is still at `expectedVersion`. @throws ConflictError, NotFoundError */
  updateHandle(handle: IPAMHandle, expectedVersion: string): Promise<Versioned<IPAMHandle>>;
  /** Deletes a handle, only at `expectedVersion` when given. @throws ConflictError, NotFoundError */
  deleteHandle(name: string, expectedVersion?: string): Promise<void>;

  /** The namespace mapping ConfigMap's `data`; undefined when the ConfigMap does not exist. */
  getIpamConfig(): Promise<Versioned<IpamConfigData> | undefined>;
  /**
   * Writes the namespace mapping ConfigMap's `data` (creating the ConfigMap when needed). With
   * `expectedVersion` the write is a compare-and-swap against that version.
   * @throws ConflictError when `expectedVersion` is stale, NotFoundError when it is given and the ConfigMap is gone
   */
  setIpamConfig(data: IpamConfigData, expectedVersion?: string): Promise<Versioned<IpamConfigData>>;

  /** Releases the store's resources; the store is unusable afterwards. */
  close(): Promise<void>;
}
