import { clone, deepFreeze, getObject } from './json.ts';
import type { JsonObject } from './json.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. `prev` lets watches compute selector transitions and lists rebuild old snapshots. */
export interface StoredEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly key: string;
  readonly object: JsonObject;
  readonly prev: JsonObject | undefined;
}

export type EventListener = (event: StoredEvent) => void;

class Table {
  readonly objects = new Map<string, JsonObject>();
  readonly log: StoredEvent[] = [];
  /** Highest resourceVersion whose event fell out of the window; history at or after it is complete. */
  compactedRv = 0;
  readonly listeners = new Set<EventListener>();
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * The etcd stand-in: objects per resource, one global revision counter shared by every resource (so a
 * resourceVersion is comparable across kinds, as with etcd), and a bounded event log per resource that feeds
 * watches and consistent paging. Everything is synchronous, so each read-modify-write done by a handler
 * between two awaits is atomic.
 */
export class Store {
  readonly #tables = new Map<string, Table>();
  readonly #window: number;
  #rv = 0;

  constructor(window: number) {
    this.#window = Math.max(1, window);
  }

  currentRv(): number {
    return this.#rv;
  }

  #table(id: string): Table {
    let table = this.#tables.get(id);
    if (!table) {
      // Tables are never removed, so a new one has seen every event of its resource: none.
      table = new Table();
      this.#tables.set(id, table);
    }
    return table;
  }

  get(id: string, key: string): JsonObject | undefined {
    return this.#tables.get(id)?.objects.get(key);
  }

  /** Current [key, object] pairs in key order (etcd range order). */
  entries(id: string): [string, JsonObject][] {
    const table = this.#tables.get(id);
    if (!table) return [];
    return sortedEntries(table.objects);
  }

  /** The objects as they were at `rv`, or undefined when the window no longer reaches that far back. */
  snapshot(id: string, rv: number): [string, JsonObject][] | undefined {
    const table = this.#table(id);
    if (rv < table.compactedRv) return undefined;
    const objects = new Map(table.objects);
    for (let i = table.log.length - 1; i >= 0; i--) {
      const event = table.log[i];
      if (!event || event.rv <= rv) break;
      if (event.type === 'ADDED' || !event.prev) objects.delete(event.key);
      else objects.set(event.key, event.prev);
    }
    return sortedEntries(objects);
  }

  /** Events after `rv`, or undefined when some of them were already dropped. */
  eventsSince(id: string, rv: number): StoredEvent[] | undefined {
    const table = this.#table(id);
    if (rv < table.compactedRv) return undefined;
    return table.log.filter((e) => e.rv > rv);
  }

  oldestRv(id: string): number {
    return this.#table(id).compactedRv;
  }

  subscribe(id: string, listener: EventListener): () => void {
    const table = this.#table(id);
    table.listeners.add(listener);
    return () => {
      table.listeners.delete(listener);
    };
  }

  /** Stores `object` under a fresh resourceVersion and returns the frozen stored copy. */
  put(id: string, key: string, object: JsonObject): JsonObject {
    const table = this.#table(id);
    const prev = table.objects.get(key);
    const stored = this.#stamp(object);
    table.objects.set(key, stored);
    this.#record(table, { type: prev ? 'MODIFIED' : 'ADDED', rv: this.#rv, key, object: stored, prev });
    return stored;
  }

  /** Removes the object; `last` is the state reported to watchers (defaults to the stored one). */
  remove(id: string, key: string, last?: JsonObject): JsonObject | undefined {
    const table = this.#tables.get(id);
    const prev = table?.objects.get(key);
    if (!table || !prev) return undefined;
    table.objects.delete(key);
    const stored = this.#stamp(last ?? prev);
    this.#record(table, { type: 'DELETED', rv: this.#rv, key, object: stored, prev });
    return stored;
  }

  /** Drops the event history of one or all resources, as an etcd compaction would. */
  compact(id?: string): void {
    const tables = id === undefined ? [...this.#tables.values()] : [this.#table(id)];
    for (const table of tables) {
      table.log.length = 0;
      table.compactedRv = this.#rv;
    }
  }

  #stamp(object: JsonObject): JsonObject {
    this.#rv += 1;
    const copy = clone(object);
    const metadata = getObject(copy, 'metadata') ?? {};
    metadata['resourceVersion'] = String(this.#rv);
    copy['metadata'] = metadata;
    return deepFreeze(copy);
  }

  #record(table: Table, event: StoredEvent): void {
    table.log.push(event);
    while (table.log.length > this.#window) {
      const dropped = table.log.shift();
      if (dropped) table.compactedRv = dropped.rv;
    }
    for (const listener of [...table.listeners]) listener(event);
  }
}

function sortedEntries(objects: Map<string, JsonObject>): [string, JsonObject][] {
  return [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
