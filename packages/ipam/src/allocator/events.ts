/**
 * What the allocator tells observers about its store traffic: one event per store call, tagged with the IPAM
 * operation it served, so callers and benches can count writes per allocation or per release.
 *
 * @packageDocumentation
 */
import type { StoreKind } from '../store-errors.ts';
import type { WriteOp } from '../stores/kv.ts';

/**
 * The {@link Ipam} operation a store call served; `inspect` covers the read-only ones (`addressesOf`,
 * `utilisation`, `check`).
 */
export type IpamOperation = 'allocate' | 'release' | 'repair' | 'setup' | 'inspect' | 'claim';

/** How a write ended. */
export type WriteOutcome = 'ok' | 'conflict' | 'alreadyExists' | 'notFound' | 'failed';

/** One store write (attempted: failed writes are reported too). */
export interface WriteEvent {
  /** The operation it served. */
  readonly operation: IpamOperation;
  /** The handle the operation was for, when there is one. */
  readonly handleId: string | undefined;
  /** Kind of object written. */
  readonly kind: StoreKind;
  /** Store operation. */
  readonly op: WriteOp;
  /** Object name. */
  readonly name: string;
  /** How it ended. */
  readonly outcome: WriteOutcome;
}

/** One store read. */
export interface ReadEvent {
  /** The operation it served. */
  readonly operation: IpamOperation;
  /** The handle the operation was for, when there is one. */
  readonly handleId: string | undefined;
  /** Kind of object read. */
  readonly kind: StoreKind;
  /** `get` or `list`. */
  readonly op: 'get' | 'list';
  /** Object name (empty for lists). */
  readonly name: string;
}

/**
 * Counts store calls by operation; pass `counter.onWrite` and `counter.onRead` to the {@link Ipam} options.
 *
 * @example
 * const counter = new StoreCallCounter();
 * const ipam = new Ipam(store, { onWrite: counter.onWrite });
 * await ipam.allocate(request);
 * counter.writes('allocate'); // 2: the handle, then the block
 */
export class StoreCallCounter {
  readonly #writes = new Map<string, number>();
  readonly #reads = new Map<string, number>();
  readonly #conflicts = new Map<string, number>();

  /** Observer for the `onWrite` option. */
  readonly onWrite = (event: WriteEvent): void => {
    this.#writes.set(event.operation, (this.#writes.get(event.operation) ?? 0) + 1);
    if (event.outcome === 'conflict') this.#conflicts.set(event.operation, (this.#conflicts.get(event.operation) ?? 0) + 1);
  };

  /** Observer for the `onRead` option. */
  readonly onRead = (event: ReadEvent): void => {
    this.#reads.set(event.operation, (this.#reads.get(event.operation) ?? 0) + 1);
  };

  /**
   * Writes counted, for one operation or all.
   * @param operation - the operation, or undefined for the total
   */
  writes(operation?: IpamOperation): number {
    return sum(this.#writes, operation);
  }

  /**
   * Writes that ended in a conflict, for one operation or all.
   * @param operation - the operation, or undefined for the total
   */
  conflicts(operation?: IpamOperation): number {
    return sum(this.#conflicts, operation);
  }

  /**
   * Reads counted, for one operation or all.
   * @param operation - the operation, or undefined for the total
   */
  reads(operation?: IpamOperation): number {
    return sum(this.#reads, operation);
  }

  /** Forgets every count. */
  reset(): void {
    this.#writes.clear();
    this.#reads.clear();
    this.#conflicts.clear();
  }
}

function sum(map: ReadonlyMap<string, number>, key: string | undefined): number {
  if (key !== undefined) return map.get(key) ?? 0;
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}
