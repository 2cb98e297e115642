/**
 * The allocator's door to the store: the calls it makes, each reported to the observers with the operation it
 * serves. Keeping every store call behind this one object is what makes the write counts trustworthy.
 *
 * @packageDocumentation
 */
import { IpamErrorCode } from '../errors.ts';
import type { IpamConfigData, IpamStore, ListBlocksOptions, Versioned } from '../store.ts';
import { StoreKind } from '../store-errors.ts';
import type { WriteOp } from '../stores/kv.ts';
import type { IPAMBlock, IPAMHandle, IPPool } from '../types.ts';
import type { IpamOperation, ReadEvent, WriteEvent, WriteOutcome } from './events.ts';

/** Observers of store calls. */
export interface StoreObservers {
  /** Called after every store write. */
  readonly onWrite?: ((event: WriteEvent) => void) | undefined;
  /** Called before every store read. */
  readonly onRead?: ((event: ReadEvent) => void) | undefined;
}

function outcomeOf(error: unknown): WriteOutcome {
  switch ((error as { code?: unknown }).code) {
    case IpamErrorCode.Conflict:
      return 'conflict';
    case IpamErrorCode.AlreadyExists:
      return 'alreadyExists';
    case IpamErrorCode.NotFound:
      return 'notFound';
    default:
      return 'failed';
  }
}

/** Store calls made for one operation. */
export class StoreIo {
  readonly #store: IpamStore;
  readonly #observers: StoreObservers;
  readonly #operation: IpamOperation;
  readonly #handleId: string | undefined;

  /**
   * @param store - the store
   * @param observers - who to tell
   * @param operation - the operation served
   * @param handleId - the handle it is for
   */
  constructor(store: IpamStore, observers: StoreObservers, operation: IpamOperation, handleId: string | undefined) {
    this.#store = store;
    this.#observers = observers;
    this.#operation = operation;
    this.#handleId = handleId;
  }

  getPool(name: string): Promise<Versioned<IPPool> | undefined> {
    this.#read(StoreKind.IPPool, 'get', name);
    return this.#store.getPool(name);
  }

  listPools(): Promise<Versioned<IPPool>[]> {
    this.#read(StoreKind.IPPool, 'list', '');
    return this.#store.listPools();
  }

  getBlock(name: string): Promise<Versioned<IPAMBlock> | undefined> {
    this.#read(StoreKind.IPAMBlock, 'get', name);
    return this.#store.getBlock(name);
  }

  listBlocks(options?: ListBlocksOptions): Promise<Versioned<IPAMBlock>[]> {
    this.#read(StoreKind.IPAMBlock, 'list', options?.pool ?? '');
    return this.#store.listBlocks(options);
  }

  getHandle(name: string): Promise<Versioned<IPAMHandle> | undefined> {
    this.#read(StoreKind.IPAMHandle, 'get', name);
    return this.#store.getHandle(name);
  }

  listHandles(): Promise<Versioned<IPAMHandle>[]> {
    this.#read(StoreKind.IPAMHandle, 'list', '');
    return this.#store.listHandles();
  }

  getIpamConfig(): Promise<Versioned<IpamConfigData> | undefined> {
    this.#read(StoreKind.ConfigMap, 'get', '');
    return this.#store.getIpamConfig();
  }

  createPool(pool: IPPool): Promise<Versioned<IPPool>> {
    return this.#write(StoreKind.IPPool, 'create', pool.metadata.name, () => this.#store.createPool(pool));
  }

  createBlock(block: IPAMBlock): Promise<Versioned<IPAMBlock>> {
    return this.#write(StoreKind.IPAMBlock, 'create', block.metadata.name, () => this.#store.createBlock(block));
  }

  updateBlock(block: IPAMBlock, expectedVersion: string): Promise<Versioned<IPAMBlock>> {
    return this.#write(StoreKind.IPAMBlock, 'update', block.metadata.name, () => this.#store.updateBlock(block, expectedVersion));
  }

  createHandle(handle: IPAMHandle): Promise<Versioned<IPAMHandle>> {
    return this.#write(StoreKind.IPAMHandle, 'create', handle.metadata.name, () => this.#store.createHandle(handle));
  }

  updateHandle(handle: IPAMHandle, expectedVersion: string): Promise<Versioned<IPAMHandle>> {
    return this.#write(StoreKind.IPAMHandle, 'update', handle.metadata.name, () =>
      this.#store.updateHandle(handle, expectedVersion),
    );
  }

  deleteHandle(name: string, expectedVersion: string): Promise<void> {
    return this.#write(StoreKind.IPAMHandle, 'delete', name, () => this.#store.deleteHandle(name, expectedVersion));
  }

  #read(kind: StoreKind, op: 'get' | 'list', name: string): void {
    this.#observers.onRead?.({ operation: this.#operation, handleId: this.#handleId, kind, op, name });
  }

  async #write<T>(kind: StoreKind, op: WriteOp, name: string, run: () => Promise<T>): Promise<T> {
    const report = (outcome: WriteOutcome): void => {
      this.#observers.onWrite?.({ operation: this.#operation, handleId: this.#handleId, kind, op, name, outcome });
    };
    try {
      const result = await run();
      report('ok');
      return result;
    } catch (error) {
      report(outcomeOf(error));
      throw error;
    }
  }
}
