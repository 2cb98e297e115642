/**
 * The in-memory store: for tests, benches and single-process embedded use. Values are kept as JSON text, so
 * nothing is ever shared with callers; versions come from one counter, like etcd's revision. Fault hooks make
 * chosen writes fail, to test what callers do with conflicts and outages.
 *
 * @packageDocumentation
 */
import type { StoreKind } from '../store-errors.ts';
import { ConflictError, StoreUnavailableError } from '../store-errors.ts';
import type { KvCondition, KvEngine, KvEntry, KvOutcome, WriteCall, WriteOp } from './kv.ts';
import { KvIpamStore } from './kv.ts';

interface Cell {
  readonly json: string;
  readonly version: number;
}

class MemoryEngine implements KvEngine {
  readonly #cells = new Map<string, Map<string, Cell>>();
  #revision = 0;

  #of(kind: StoreKind): Map<string, Cell> {
    let cells = this.#cells.get(kind);
    if (cells === undefined) this.#cells.set(kind, (cells = new Map()));
    return cells;
  }

  async get(kind: StoreKind, name: string): Promise<KvEntry | undefined> {
    const cell = this.#of(kind).get(name);
    return cell === undefined ? undefined : { name, value: JSON.parse(cell.json), version: String(cell.version) };
  }

  async list(kind: StoreKind): Promise<KvEntry[]> {
    return [...this.#of(kind)].map(([name, cell]) => ({ name, value: JSON.parse(cell.json), version: String(cell.version) }));
  }

  async put(kind: StoreKind, name: string, value: unknown, condition: KvCondition): Promise<KvOutcome> {
    const cells = this.#of(kind);
    const current = cells.get(name);
    if ('absent' in condition && current !== undefined) return { ok: false, reason: 'exists' };
    if ('version' in condition) {
      if (current === undefined) return { ok: false, reason: 'missing' };
      if (String(current.version) !== condition.version) return { ok: false, reason: 'stale' };
    }
    const version = ++this.#revision;
    cells.set(name, { json: JSON.stringify(value), version });
    return { ok: true, version: String(version) };
  }

  async remove(kind: StoreKind, name: string, version: string | undefined): Promise<KvOutcome> {
    const cells = this.#of(kind);
    const current = cells.get(name);
    if (current === undefined) return { ok: false, reason: 'missing' };
    if (version !== undefined && String(current.version) !== version) return { ok: false, reason: 'stale' };
    cells.delete(name);
    return { ok: true, version: String(++this.#revision) };
  }

  async close(): Promise<void> {
    this.#cells.clear();
  }
}

/** Which writes a fault applies to, and how they fail. Unset filters match everything. */
export interface WriteFault {
  /** Only writes of this kind. */
  readonly kind?: StoreKind;
  /** Only this operation. */
  readonly op?: WriteOp;
  /** Only this object. */
  readonly name?: string;
  /** How many matching writes fail (default 1; `Infinity` for all). */
  readonly times?: number;
  /** The failure: a conflict (default), a transient outage, or an error of your own. */
  readonly error?: 'conflict' | 'unavailable' | ((call: WriteCall) => Error);
}

/** Options of {@link MemoryIpamStore}. */
export interface MemoryStoreOptions {
  /** Called before every write the caller asked for; throw to fail it (e.g. random conflicts). */
  readonly beforeWrite?: (call: WriteCall) => void;
}

interface ActiveFault {
  readonly fault: WriteFault;
  remaining: number;
}

function faultError(fault: WriteFault, call: WriteCall): Error {
  const error = fault.error ?? 'conflict';
  if (error === 'conflict') return new ConflictError(call.kind, call.name, undefined);
  if (error === 'unavailable') return new StoreUnavailableError(call.kind, call.name, call.op, 'injected fault');
  return error(call);
}

/**
 * An {@link IpamStore} in memory. Faulted writes change nothing.
 *
 * @example
 * const store = new MemoryIpamStore();
 * store.failWrites({ kind: 'IPAMBlock', op: 'update', times: 3 }); // the next 3 block updates conflict
 */
export class MemoryIpamStore extends KvIpamStore {
  readonly #faults: ActiveFault[] = [];
  readonly #beforeWrite: ((call: WriteCall) => void) | undefined;

  /** @param options - hooks */
  constructor(options: MemoryStoreOptions = {}) {
    const hooks: { beforeWrite?: (call: WriteCall) => void } = {};
    super(new MemoryEngine(), hooks);
    this.#beforeWrite = options.beforeWrite;
    hooks.beforeWrite = (call) => this.#check(call);
  }

  /**
   * Makes matching writes fail, the first `times` of them.
   * @param fault - which writes and how
   */
  failWrites(fault: WriteFault): void {
    this.#faults.push({ fault, remaining: fault.times ?? 1 });
  }

  /** Removes every fault set with {@link failWrites}. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  #check(call: WriteCall): void {
    this.#beforeWrite?.(call);
    for (const active of this.#faults) {
      const { fault } = active;
      if (active.remaining <= 0) continue;
      if (fault.kind !== undefined && fault.kind !== call.kind) continue;
      if (fault.op !== undefined && fault.op !== call.op) continue;
      if (fault.name !== undefined && fault.name !== call.name) continue;
      active.remaining--;
      throw faultError(fault, call);
    }
  }
}
