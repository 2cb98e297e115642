/**
 * An {@link IpamStore} over any key-value engine with conditional writes. The memory and lmdb stores are this
 * class over their engines, so the store rules (errors, copies, deleted markers, pool status, name checks)
 * live in one place and the engines only have to make each write atomic.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors.ts';
import type { IpamConfigData, IpamStore, ListBlocksOptions, Versioned } from '../store.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreKind, StoreUnavailableError } from '../store-errors.ts';
import type { IPAMBlock, IPAMHandle, IPPool, IPPoolStatus } from '../types.ts';
import {
  blockInPool,
  checkObjectName,
  IPAM_CONFIG_OBJECT_NAME,
  isMarkedDeleted,
  jsonCopy,
  poolWithoutStatus,
  poolWithStatus,
} from './objects.ts';

/** One stored value. */
export interface KvEntry {
  /** The object's name. */
  readonly name: string;
  /** The value, a copy the engine does not keep. */
  readonly value: unknown;
  /** Its version. */
  readonly version: string;
}

/** When a put may happen: only if absent, only at a version, or always. */
export type KvCondition = { readonly absent: true } | { readonly version: string } | { readonly always: true };

/** The outcome of a conditional write. */
export type KvOutcome =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: 'exists' | 'missing' | 'stale' };

/**
 * A key-value engine: values by kind and name, each with a version that changes on every write and is never
 * reused for the same key. Each `put` and `remove` must check its condition and write atomically, also against
 * other processes sharing the storage. Engines copy values in and out.
 */
export interface KvEngine {
  /** Reads one value. */
  get(kind: StoreKind, name: string): Promise<KvEntry | undefined>;
  /** Reads every value of a kind. */
  list(kind: StoreKind): Promise<KvEntry[]>;
  /** Writes a value if the condition holds. */
  put(kind: StoreKind, name: string, value: unknown, condition: KvCondition): Promise<KvOutcome>;
  /** Removes a value, only at `version` when given. */
  remove(kind: StoreKind, name: string, version: string | undefined): Promise<KvOutcome>;
  /** Releases the engine. */
  close(): Promise<void>;
}

/** Store operations that write. */
export type WriteOp = 'create' | 'update' | 'updateStatus' | 'delete' | 'set';

/** A write about to happen, as seen by {@link KvStoreHooks.beforeWrite}. */
export interface WriteCall {
  /** Kind of object. */
  readonly kind: StoreKind;
  /** Operation. */
  readonly op: WriteOp;
  /** Object name. */
  readonly name: string;
}

/** Hooks of a {@link KvIpamStore}. */
export interface KvStoreHooks {
  /** Called before each write the caller asked for; throwing fails the write without applying it. */
  beforeWrite?: ((call: WriteCall) => void) | undefined;
}

function isRecordOfStrings(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** An {@link IpamStore} over a {@link KvEngine}. */
export class KvIpamStore implements IpamStore {
  readonly #engine: KvEngine;
  readonly #hooks: KvStoreHooks;
  #closed = false;

  /**
   * @param engine - the engine
   * @param hooks - optional hooks (fault injection in tests)
   */
  constructor(engine: KvEngine, hooks: KvStoreHooks = {}) {
    this.#engine = engine;
    this.#hooks = hooks;
  }

  async getPool(name: string): Promise<Versioned<IPPool> | undefined> {
    const entry = await this.#get(StoreKind.IPPool, name);
    return entry === undefined ? undefined : { object: entry.value as IPPool, version: entry.version };
  }

  async listPools(): Promise<Versioned<IPPool>[]> {
    const entries = await this.#list(StoreKind.IPPool);
    return entries.map((e) => ({ object: e.value as IPPool, version: e.version }));
  }

  async createPool(pool: IPPool): Promise<Versioned<IPPool>> {
    return this.#create(StoreKind.IPPool, poolWithoutStatus(pool));
  }

  async updatePool(pool: IPPool, expectedVersion: string): Promise<Versioned<IPPool>> {
    const name = checkObjectName(StoreKind.IPPool, pool.metadata.name);
    this.#before(StoreKind.IPPool, 'update', name);
    const stored = await this.#currentAt(StoreKind.IPPool, name, expectedVersion);
    const next = poolWithStatus(jsonCopy(pool), (stored.value as IPPool).status);
    return this.#put(StoreKind.IPPool, name, next, { version: expectedVersion });
  }

  async updatePoolStatus(name: string, status: IPPoolStatus, expectedVersion: string): Promise<Versioned<IPPool>> {
    checkObjectName(StoreKind.IPPool, name);
    this.#before(StoreKind.IPPool, 'updateStatus', name);
    const stored = await this.#currentAt(StoreKind.IPPool, name, expectedVersion);
    const next: IPPool = { ...(stored.value as IPPool), status: jsonCopy(status) };
    return this.#put(StoreKind.IPPool, name, next, { version: expectedVersion });
  }

  async deletePool(name: string, expectedVersion?: string): Promise<void> {
    await this.#delete(StoreKind.IPPool, name, expectedVersion);
  }

  async getBlock(name: string): Promise<Versioned<IPAMBlock> | undefined> {
    const entry = await this.#get(StoreKind.IPAMBlock, name);
    return entry === undefined ? undefined : { object: entry.value as IPAMBlock, version: entry.version };
  }

  async listBlocks(options: ListBlocksOptions = {}): Promise<Versioned<IPAMBlock>[]> {
    const entries = await this.#list(StoreKind.IPAMBlock);
    const out: Versioned<IPAMBlock>[] = [];
    for (const entry of entries) {
      const block = entry.value as IPAMBlock;
      if (options.pool === undefined || blockInPool(block, options.pool)) out.push({ object: block, version: entry.version });
    }
    return out;
  }

  async createBlock(block: IPAMBlock): Promise<Versioned<IPAMBlock>> {
    return this.#create(StoreKind.IPAMBlock, block);
  }

  async updateBlock(block: IPAMBlock, expectedVersion: string): Promise<Versioned<IPAMBlock>> {
    return this.#update(StoreKind.IPAMBlock, block, expectedVersion);
  }

  async deleteBlock(name: string, expectedVersion?: string): Promise<void> {
    await this.#delete(StoreKind.IPAMBlock, name, expectedVersion);
  }

  async getHandle(name: string): Promise<Versioned<IPAMHandle> | undefined> {
    const entry = await this.#get(StoreKind.IPAMHandle, name);
    return entry === undefined ? undefined : { object: entry.value as IPAMHandle, version: entry.version };
  }

  async listHandles(): Promise<Versioned<IPAMHandle>[]> {
    const entries = await this.#list(StoreKind.IPAMHandle);
    return entries.map((e) => ({ object: e.value as IPAMHandle, version: e.version }));
  }

  async createHandle(handle: IPAMHandle): Promise<Versioned<IPAMHandle>> {
    return this.#create(StoreKind.IPAMHandle, handle);
  }

  async updateHandle(handle: IPAMHandle, expectedVersion: string): Promise<Versioned<IPAMHandle>> {
    return this.#update(StoreKind.IPAMHandle, handle, expectedVersion);
  }

  async deleteHandle(name: string, expectedVersion?: string): Promise<void> {
    await this.#delete(StoreKind.IPAMHandle, name, expectedVersion);
  }

  async getIpamConfig(): Promise<Versioned<IpamConfigData> | undefined> {
    const entry = await this.#get(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME);
    return entry === undefined ? undefined : { object: entry.value as IpamConfigData, version: entry.version };
  }

  async setIpamConfig(data: IpamConfigData, expectedVersion?: string): Promise<Versioned<IpamConfigData>> {
    if (!isRecordOfStrings(data)) throw new InvalidArgumentError('data', 'of the IPAM ConfigMap must map keys to strings');
    this.#before(StoreKind.ConfigMap, 'set', IPAM_CONFIG_OBJECT_NAME);
    const condition: KvCondition = expectedVersion === undefined ? { always: true } : { version: expectedVersion };
    return this.#put(StoreKind.ConfigMap, IPAM_CONFIG_OBJECT_NAME, jsonCopy(data), condition);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.close();
  }

  #before(kind: StoreKind, op: WriteOp, name: string): void {
    this.#hooks.beforeWrite?.({ kind, op, name });
  }

  async #call<T>(kind: StoreKind, name: string, operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new StoreUnavailableError(kind, name, operation, (error as Error).message ?? String(error), { cause: error });
    }
  }

  /** Reads an entry, finishing off a Go-style deleted marker. */
  async #get(kind: StoreKind, name: string): Promise<KvEntry | undefined> {
    const entry = await this.#call(kind, name, 'get', () => this.#engine.get(kind, name));
    if (entry === undefined) return undefined;
    if (isMarkedDeleted(entry.value)) {
      await this.#finish(kind, entry);
      return undefined;
    }
    return entry;
  }

  async #list(kind: StoreKind): Promise<KvEntry[]> {
    const entries = await this.#call(kind, '', 'list', () => this.#engine.list(kind));
    const out: KvEntry[] = [];
    for (const entry of entries) {
      if (isMarkedDeleted(entry.value)) await this.#finish(kind, entry);
      else out.push(entry);
    }
    return out;
  }

  /** Deletes a marked object at the version it was read; a lost race means someone else dealt with it. */
  async #finish(kind: StoreKind, entry: KvEntry): Promise<void> {
    await this.#call(kind, entry.name, 'delete', () => this.#engine.remove(kind, entry.name, entry.version));
  }

  async #currentAt(kind: StoreKind, name: string, expectedVersion: string): Promise<KvEntry> {
    const stored = await this.#get(kind, name);
    if (stored === undefined) throw new NotFoundError(kind, name);
    if (stored.version !== expectedVersion) throw new ConflictError(kind, name, expectedVersion);
    return stored;
  }

  async #create<T extends { readonly metadata: { readonly name: string } }>(kind: StoreKind, object: T): Promise<Versioned<T>> {
    const name = checkObjectName(kind, object.metadata.name);
    this.#before(kind, 'create', name);
    return this.#put(kind, name, jsonCopy(object), { absent: true });
  }

  async #update<T extends { readonly metadata: { readonly name: string } }>(
    kind: StoreKind,
    object: T,
    expectedVersion: string,
  ): Promise<Versioned<T>> {
    const name = checkObjectName(kind, object.metadata.name);
    this.#before(kind, 'update', name);
    return this.#put(kind, name, jsonCopy(object), { version: expectedVersion });
  }

  async #put<T>(kind: StoreKind, name: string, value: T, condition: KvCondition): Promise<Versioned<T>> {
    const outcome = await this.#call(kind, name, 'put', () => this.#engine.put(kind, name, value, condition));
    // `value` is already this call's own copy and engines keep none, so it can go back to the caller.
    if (outcome.ok) return { object: value, version: outcome.version };
    const expected = 'version' in condition ? condition.version : undefined;
    if (outcome.reason === 'exists') throw new AlreadyExistsError(kind, name);
    if (outcome.reason === 'missing') throw new NotFoundError(kind, name);
    throw new ConflictError(kind, name, expected);
  }

  async #delete(kind: StoreKind, name: string, expectedVersion: string | undefined): Promise<void> {
    this.#before(kind, 'delete', name);
    const outcome = await this.#call(kind, name, 'delete', () => this.#engine.remove(kind, name, expectedVersion));
    if (outcome.ok) return;
    if (outcome.reason === 'missing') throw new NotFoundError(kind, name);
    throw new ConflictError(kind, name, expectedVersion);
  }
}
