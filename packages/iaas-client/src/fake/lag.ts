/**
 * Consistency lag: after a mutation made under a `lagMs` fault, Describe* keeps showing each touched record
 * as it was before the mutation (or not at all, if it did not exist) until the lag expires. Records are
 * compared as JSON, so any mutation of any table is caught without the actions having to cooperate.
 */

interface LagEntry {
  /** The record's JSON before the first lagged mutation, or null when it did not exist. */
  before: string | null;
  until: number;
}

export type TableSnapshot = ReadonlyMap<string, ReadonlyMap<string, string>>;

export class LagTracker {
  readonly #entries = new Map<string, Map<string, LagEntry>>();

  capture(tables: ReadonlyMap<string, ReadonlyMap<string, unknown>>): TableSnapshot {
    const out = new Map<string, Map<string, string>>();
    for (const [name, table] of tables) {
      const rows = new Map<string, string>();
      for (const [id, record] of table) rows.set(id, JSON.stringify(record));
      out.set(name, rows);
    }
    return out;
  }

  /** Registers every record that differs between `before` and now. */
  commit(before: TableSnapshot, tables: ReadonlyMap<string, ReadonlyMap<string, unknown>>, lagMs: number, nowMs: number): void {
    if (lagMs <= 0) return;
    const until = nowMs + lagMs;
    for (const [name, table] of tables) {
      const old = before.get(name) ?? new Map<string, string>();
      const ids = new Set([...old.keys(), ...table.keys()]);
      for (const id of ids) {
        const was = old.get(id) ?? null;
        const record = table.get(id);
        const is = record === undefined ? null : JSON.stringify(record);
        if (was === is) continue;
        let entries = this.#entries.get(name);
        if (entries === undefined) {
          entries = new Map();
          this.#entries.set(name, entries);
        }
        const existing = entries.get(id);
        // A second mutation within the window keeps the oldest view: readers lag behind both.
        if (existing !== undefined && existing.until > nowMs) existing.until = Math.max(existing.until, until);
        else entries.set(id, { before: was, until });
      }
    }
  }

  /** The records of a table as a lagging reader sees them. */
  view<T>(name: string, table: ReadonlyMap<string, T>, nowMs: number): T[] {
    const entries = this.#entries.get(name);
    if (entries === undefined || entries.size === 0) return [...table.values()];
    for (const [id, entry] of entries) if (entry.until <= nowMs) entries.delete(id);
    const out: T[] = [];
    for (const [id, record] of table) {
      const entry = entries.get(id);
      if (entry === undefined) out.push(record);
      else if (entry.before !== null) out.push(JSON.parse(entry.before) as T);
    }
    for (const [id, entry] of entries) {
      if (!table.has(id) && entry.before !== null) out.push(JSON.parse(entry.before) as T);
    }
    return out;
  }

  clear(): void {
    this.#entries.clear();
  }
}
