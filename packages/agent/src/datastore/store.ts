/**
 * The agent's local datastore: pods, NICs, route tables and the intent journal in one lmdb environment.
 *
 * Every write method is one lmdb write transaction (`transaction()`): its callback runs synchronously inside the
 * transaction, so nothing awaits between a read and the write that depends on it, concurrent async callers in
 * this process cannot interleave inside a method, and lmdb's write lock extends the same atomicity to other
 * processes that open the directory. The commit and its fsync run on lmdb's writer thread and the method
 * resolves once the data is flushed (`flushed`): durable when it resolves, which the original's leveldb never
 * was, without stalling the event loop for the fsync (a synchronous commit held it 2-17 ms, up to 80 ms on a
 * slow disk). Readers use lmdb's MVCC snapshots and never wait for writers.
 *
 * @packageDocumentation
 */
import type { Key } from 'lmdb';
import type { Intent, IntentKind, NicRecord, NicStore, PodRecord } from '../types.ts';
import { decode, encode } from './codec.ts';
import type { Db, Env, EnvOptions, RecordDbName } from './env.ts';
import { openEnv } from './env.ts';
import { deepFreeze } from './freeze.ts';
import {
  DatastoreClosedError,
  IntentNotFoundError,
  InvalidRecordError,
  RouteTableConflictError,
  VxnetConflictError,
} from './errors.ts';
import type { DatastoreProblem } from './problems.ts';
import { ProblemLog } from './problems.ts';
import type { Checked, RouteTableEntry } from './records.ts';
import { checkIntent, checkIntentData, checkNic, checkPod, checkTableEntry, checkTableNumber, podKey } from './records.ts';
import type { SchemaOutcome } from './schema.ts';
import { ensureSchema, SCHEMA_VERSION } from './schema.ts';
import { lowestFreeTable } from './tables.ts';

export interface AgentDatastoreOptions extends EnvOptions {
  /** Clock for timestamps the store sets itself (intent start, table reservation, problem first seen). */
  readonly now?: () => Date;
  /** Called once per newly seen unreadable value (the agent logs it); exceptions from it are ignored. */
  readonly onProblem?: (problem: DatastoreProblem) => void;
}

/** An immutable copy of everything, for introspection and metrics. */
export interface DatastoreSnapshot {
  readonly takenAt: string;
  readonly schemaVersion: number;
  readonly bootId: string | undefined;
  readonly nics: readonly Readonly<NicRecord>[];
  readonly pods: readonly Readonly<PodRecord>[];
  readonly routeTables: readonly Readonly<RouteTableEntry>[];
  readonly intents: readonly Readonly<Intent>[];
  readonly problems: readonly DatastoreProblem[];
}

const INTENT_SEQ_KEY = 'intentSeq';
const BOOT_ID_KEY = 'bootId';
/** Fixed width so that lmdb's byte order of the keys is the order the intents were begun in. */
const INTENT_ID_WIDTH = 16;

type Check<T> = (value: unknown) => Checked<T>;

function invalid<T>(what: string, checked: Checked<T>): T {
  if (!checked.ok) throw new InvalidRecordError(what, checked.reason);
  return checked.value;
}

export class AgentDatastore implements NicStore {
  /** The directory of the environment. */
  readonly path: string;
  /** What opening did to the schema (created, current, migrated). */
  readonly schema: SchemaOutcome;
  #env: Env | undefined;
  readonly #problems: ProblemLog;
  readonly #now: () => Date;

  private constructor(path: string, env: Env, schema: SchemaOutcome, options: AgentDatastoreOptions) {
    this.path = path;
    this.#env = env;
    this.schema = schema;
    this.#now = options.now ?? (() => new Date());
    this.#problems = new ProblemLog(this.#now, options.onProblem);
  }

  /**
   * Opens the datastore in `dir`, creating the directory and the environment when missing, and migrating an
   * older schema. Reads every record once so that `problems()` is complete from the start.
   * @throws {@link DatastoreOpenError}, {@link SchemaTooNewError}, {@link SchemaCorruptError}, {@link SchemaMigrationError}
   */
  static open(dir: string, options: AgentDatastoreOptions = {}): AgentDatastore {
    const env = openEnv(dir, options);
    let schema: SchemaOutcome;
    try {
      schema = ensureSchema(env, dir);
    } catch (error) {
      void env.root.close();
      throw error;
    }
    const store = new AgentDatastore(dir, env, schema, options);
    store.#scanAll();
    return store;
  }

  /** Closes the environment; later calls throw {@link DatastoreClosedError}. Idempotent. */
  async close(): Promise<void> {
    const env = this.#env;
    if (env === undefined) return;
    this.#env = undefined;
    await env.root.close();
  }

  get closed(): boolean {
    return this.#env === undefined;
  }

  // ---- pods

  async getPod(containerId: string, ifName: string): Promise<PodRecord | undefined> {
    const env = this.#reading();
    return this.#get(env.pods, 'pods', podKey(containerId, ifName), checkPod, (p) => podKey(p.containerId, p.ifName));
  }

  /**
   * Creates or replaces the pod record keyed by its container id and interface; the intents `finishing` names
   * (the ADD's own journal entry) go in the same transaction: one commit where two would queue behind the others'.
   */
  async putPod(pod: PodRecord, finishing: readonly string[] = []): Promise<void> {
    const record = invalid('pod record', checkPod(pod));
    const key = podKey(record.containerId, record.ifName);
    await this.#write((env) => {
      env.pods.putSync(key, encode(record));
      this.#problems.clear('pods', key);
      this.#finishIntents(env, finishing);
    });
  }

  /**
   * Removes the pod record and finishes the intents `finishing` names (the DEL's journal entries) in the same
   * transaction; returns what the record held (undefined when absent or unreadable). Idempotent.
   */
  async deletePod(containerId: string, ifName: string, finishing: readonly string[] = []): Promise<PodRecord | undefined> {
    const key = podKey(containerId, ifName);
    return this.#write((env) => {
      const previous = this.#get(env.pods, 'pods', key, checkPod, (p) => podKey(p.containerId, p.ifName));
      env.pods.removeSync(key);
      this.#problems.clear('pods', key);
      this.#finishIntents(env, finishing);
      return previous;
    });
  }

  async listPods(): Promise<PodRecord[]> {
    return this.#pods(this.#reading());
  }

  async podsOnNic(nicId: string): Promise<PodRecord[]> {
    // A node holds at most a few hundred pods: a scan is cheaper than keeping secondary indexes consistent.
    return this.#pods(this.#reading()).filter((p) => p.nicId === nicId);
  }

  async podsOfHandle(handleId: string): Promise<PodRecord[]> {
    return this.#pods(this.#reading()).filter((p) => p.handleId === handleId);
  }

  // ---- NICs

  async getNic(nicId: string): Promise<NicRecord | undefined> {
    const env = this.#reading();
    return this.#get(env.nics, 'nics', nicId, checkNic, (n) => n.nicId);
  }

  async nicForVxnet(vxnetId: string): Promise<NicRecord | undefined> {
    return this.#nics(this.#reading()).find((n) => n.vxnet.vxnetId === vxnetId);
  }

  async listNics(): Promise<NicRecord[]> {
    return this.#nics(this.#reading());
  }

  /**
   * Creates or replaces a NIC record and binds its route table to it (a reservation from
   * {@link allocateRouteTable} becomes the NIC's; a table the NIC no longer uses is freed).
   * @throws {@link InvalidRecordError}, {@link VxnetConflictError} (another NIC serves the vxnet),
   *   {@link RouteTableConflictError} (another NIC holds the table)
   */
  async putNic(nic: NicRecord): Promise<void> {
    const record = invalid('NIC record', checkNic(nic));
    await this.#write((env) => {
      let previous: NicRecord | undefined;
      for (const other of this.#nics(env)) {
        if (other.nicId === record.nicId) {
          previous = other;
          continue;
        }
        if (other.vxnet.vxnetId === record.vxnet.vxnetId) {
          throw new VxnetConflictError(record.vxnet.vxnetId, record.nicId, other.nicId);
        }
        if (other.routeTable === record.routeTable) {
          throw new RouteTableConflictError(record.routeTable, record.nicId, other.nicId);
        }
      }
      const entry = this.#get(env.tables, 'tables', record.routeTable, checkTableEntry, (e) => e.table);
      // A binding whose NIC record is gone or unreadable still protects the table: its bridge may be live.
      if (entry?.nicId !== undefined && entry.nicId !== record.nicId) {
        throw new RouteTableConflictError(record.routeTable, record.nicId, entry.nicId);
      }
      const binding: RouteTableEntry = {
        table: record.routeTable,
        nicId: record.nicId,
        reservedAt: entry?.reservedAt ?? this.#now().toISOString(),
      };
      env.tables.putSync(record.routeTable, encode(binding));
      this.#problems.clear('tables', record.routeTable);
      if (previous !== undefined && previous.routeTable !== record.routeTable) {
        this.#unbindTables(env, record.nicId, previous.routeTable);
      }
      env.nics.putSync(record.nicId, encode(record));
      this.#problems.clear('nics', record.nicId);
    });
  }

  /** Removes the NIC record and frees its route table. Idempotent. */
  async deleteNic(nicId: string): Promise<void> {
    await this.#write((env) => {
      env.nics.removeSync(nicId);
      this.#problems.clear('nics', nicId);
      this.#unbindTables(env, nicId);
    });
  }

  /**
   * Reserves the lowest table >= `base` that no NIC record, no reservation and no entry of `exclude` (tables
   * seen in the kernel) holds. The reservation lasts until a NIC record takes it ({@link putNic}) and is then
   * freed with that record; an allocation that is not used should be given back with {@link releaseRouteTable}.
   * `prefer` (>= base) is taken when no record or reservation holds it, even though the kernel uses it: the
   * table of a NIC being adopted, which the kernel uses for that very NIC.
   * @throws {@link InvalidRecordError} for a bad base, {@link RouteTableExhaustedError}
   */
  async allocateRouteTable(base: number, exclude: readonly number[] = [], prefer?: number): Promise<number> {
    invalid('route table base', checkTableNumber(base));
    return this.#write((env) => {
      const held = new Set<number>();
      for (const key of env.tables.getKeys()) if (typeof key === 'number') held.add(key);
      for (const nic of this.#nics(env)) held.add(nic.routeTable);
      const preferred = prefer !== undefined && prefer >= base && !held.has(prefer) && checkTableNumber(prefer).ok;
      const table = preferred ? prefer : lowestFreeTable(base, new Set([...held, ...exclude]));
      const entry: RouteTableEntry = { table, reservedAt: this.#now().toISOString() };
      env.tables.putSync(table, encode(entry));
      return table;
    });
  }

  /**
   * Gives back a reservation no NIC record uses (the NIC was never created, or the reconciler found the
   * reservation stale). Returns false when the table was not held.
   * @throws {@link RouteTableConflictError} when a NIC holds it: delete the NIC record instead
   */
  async releaseRouteTable(table: number): Promise<boolean> {
    return this.#write((env) => {
      const entry = this.#get(env.tables, 'tables', table, checkTableEntry, (e) => e.table);
      if (entry?.nicId !== undefined) throw new RouteTableConflictError(table, undefined, entry.nicId);
      const existed = env.tables.doesExist(table);
      env.tables.removeSync(table);
      this.#problems.clear('tables', table);
      return existed;
    });
  }

  /** Every held table, bound or only reserved, in numeric order. */
  async listRouteTables(): Promise<RouteTableEntry[]> {
    return this.#tables(this.#reading());
  }

  // ---- intent journal

  /** Journals an intent before the action it describes; the id orders intents by start. */
  async beginIntent(kind: IntentKind, data: Intent['data']): Promise<Intent> {
    const payload = { ...invalid('intent data', checkIntentData(data)) };
    return this.#write((env) => {
      const seq = this.#nextIntentSeq(env);
      const draft = { id: String(seq).padStart(INTENT_ID_WIDTH, '0'), kind, data: payload, startedAt: this.#now().toISOString() };
      const intent = invalid('intent', checkIntent(draft));
      env.meta.putSync(INTENT_SEQ_KEY, encode(seq));
      env.intents.putSync(intent.id, encode(intent));
      return intent;
    });
  }

  /**
   * Merges `data` into an open intent — e.g. the NIC id as soon as CreateNics returns it,
   * so that a crash after the call still knows what to undo.
   * @throws {@link IntentNotFoundError}
   */
  async updateIntent(id: string, data: Intent['data']): Promise<Intent> {
    const extra = invalid('intent data', checkIntentData(data));
    return this.#write((env) => {
      const current = this.#get(env.intents, 'intents', id, checkIntent, (i) => i.id);
      if (current === undefined) throw new IntentNotFoundError(id);
      const updated: Intent = { ...current, data: { ...current.data, ...extra } };
      env.intents.putSync(id, encode(updated));
      return updated;
    });
  }

  /** Removes the intent from the journal (done, or undone). Idempotent. */
  async finishIntent(id: string): Promise<void> {
    await this.#write((env) => this.#finishIntents(env, [id]));
  }

  /** Inside a write transaction: removes the intents from the journal. */
  #finishIntents(env: Env, ids: readonly string[]): void {
    for (const id of ids) {
      env.intents.removeSync(id);
      this.#problems.clear('intents', id);
    }
  }

  async getIntent(id: string): Promise<Intent | undefined> {
    const env = this.#reading();
    return this.#get(env.intents, 'intents', id, checkIntent, (i) => i.id);
  }

  /** Open intents, oldest first. */
  async listIntents(): Promise<Intent[]> {
    return this.#intents(this.#reading());
  }

  // ---- node identity

  /** The boot id recorded by {@link setBootId}; differing from the kernel's means the node rebooted. */
  async bootId(): Promise<string | undefined> {
    return this.#bootId(this.#reading());
  }

  async setBootId(bootId: string): Promise<void> {
    if (bootId.trim() === '') throw new InvalidRecordError('boot id', 'it is empty');
    await this.#write((env) => env.meta.putSync(BOOT_ID_KEY, encode(bootId.trim())));
  }

  // ---- problems and introspection

  /** Unreadable values seen by this process, skipped by every read. */
  problems(): readonly DatastoreProblem[] {
    return this.#problems.list();
  }

  /**
   * Moves every unreadable record into the `quarantine` database (under `<database>/<key>`, bytes as they
   * were), so that it stops being reported and a new record can take the key. Returns how many were moved.
   */
  async quarantineProblems(): Promise<number> {
    return this.#write((env) => {
      let moved = 0;
      const dbs: [RecordDbName, Db, Check<unknown>, (k: Key, v: unknown) => boolean][] = [
        ['nics', env.nics, checkNic, (k, v) => k === (v as NicRecord).nicId],
        ['pods', env.pods, checkPod, (k, v) => k === podKey((v as PodRecord).containerId, (v as PodRecord).ifName)],
        ['tables', env.tables, checkTableEntry, (k, v) => k === (v as RouteTableEntry).table],
        ['intents', env.intents, checkIntent, (k, v) => k === (v as Intent).id],
      ];
      for (const [name, db, check, keyMatches] of dbs) {
        const bad: { key: Key; value: Buffer }[] = [];
        for (const { key, value } of db.getRange()) {
          const decoded = decode(value);
          const checked = decoded.ok ? check(decoded.value) : decoded;
          if (!checked.ok || !keyMatches(key, checked.value)) bad.push({ key, value });
        }
        for (const { key, value } of bad) {
          env.quarantine.putSync(`${name}/${String(key)}`, value instanceof Uint8Array ? value : encode(value));
          db.removeSync(key);
          this.#problems.clear(name, key);
          moved++;
        }
      }
      return moved;
    });
  }

  /** Everything, consistent as of one instant, deep-frozen. Reads one lmdb snapshot; never blocks writers. */
  snapshot(): DatastoreSnapshot {
    const env = this.#reading();
    // No await below: every read shares lmdb's read transaction of this turn, i.e. one consistent version.
    const snapshot: DatastoreSnapshot = {
      takenAt: this.#now().toISOString(),
      schemaVersion: SCHEMA_VERSION,
      bootId: this.#bootId(env),
      nics: this.#nics(env),
      pods: this.#pods(env),
      routeTables: this.#tables(env),
      intents: this.#intents(env),
      problems: this.#problems.list(),
    };
    return deepFreeze(snapshot);
  }

  // ---- internals

  #live(): Env {
    if (this.#env === undefined) throw new DatastoreClosedError();
    return this.#env;
  }

  /** The env for a read, with lmdb's read snapshot renewed so commits of other processes show. */
  #reading(): Env {
    const env = this.#live();
    env.root.resetReadTxn();
    return env;
  }

  /**
   * One write transaction. `action` runs synchronously inside lmdb's write transaction, so the reads it makes
   * and the writes that depend on them never interleave with another caller; the commit and its fsync run on
   * lmdb's writer thread, not on the event loop. Resolves once the commit is flushed to disk.
   */
  async #write<T>(action: (env: Env) => T): Promise<T> {
    const env = this.#live();
    const result = await env.root.transaction(() => action(env));
    await env.root.flushed;
    return result;
  }

  /** Reads one record; an unreadable one is reported and reads as absent. */
  #get<T>(db: Db, name: RecordDbName, key: Key, check: Check<T>, keyOf: (record: T) => Key): T | undefined {
    const raw = db.get(key);
    if (raw === undefined) return undefined;
    return this.#accept(name, key, raw, check, keyOf);
  }

  #scan<T>(db: Db, name: RecordDbName, check: Check<T>, keyOf: (record: T) => Key): T[] {
    const out: T[] = [];
    for (const { key, value } of db.getRange()) {
      const record = this.#accept(name, key, value, check, keyOf);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  #accept<T>(name: RecordDbName, key: Key, raw: unknown, check: Check<T>, keyOf: (record: T) => Key): T | undefined {
    const decoded = decode(raw);
    const checked = decoded.ok ? check(decoded.value) : decoded;
    if (!checked.ok) {
      this.#problems.report(name, key, checked.reason);
      return undefined;
    }
    // The original indexed records by their own content, not their key; a mismatch means
    // the value was written behind the store's back, so neither can be trusted.
    if (keyOf(checked.value) !== key) {
      this.#problems.report(name, key, `key does not match the record (${String(keyOf(checked.value))})`);
      return undefined;
    }
    this.#problems.clear(name, key);
    return checked.value;
  }

  #nics(env: Env): NicRecord[] {
    return this.#scan(env.nics, 'nics', checkNic, (n) => n.nicId);
  }

  #pods(env: Env): PodRecord[] {
    return this.#scan(env.pods, 'pods', checkPod, (p) => podKey(p.containerId, p.ifName));
  }

  #tables(env: Env): RouteTableEntry[] {
    return this.#scan(env.tables, 'tables', checkTableEntry, (e) => e.table);
  }

  #intents(env: Env): Intent[] {
    return this.#scan(env.intents, 'intents', checkIntent, (i) => i.id);
  }

  #bootId(env: Env): string | undefined {
    const raw = env.meta.get(BOOT_ID_KEY);
    if (raw === undefined) return undefined;
    const decoded = decode(raw);
    return decoded.ok && typeof decoded.value === 'string' ? decoded.value : undefined;
  }

  /** Frees the tables bound to `nicId` (all of them, or only `table`), readable or not. */
  #unbindTables(env: Env, nicId: string, table?: number): void {
    const doomed: Key[] = [];
    for (const { key, value } of env.tables.getRange()) {
      if (table !== undefined && key !== table) continue;
      const decoded = decode(value);
      const checked = decoded.ok ? checkTableEntry(decoded.value) : decoded;
      if (checked.ok && checked.value.nicId === nicId) doomed.push(key);
    }
    for (const key of doomed) {
      env.tables.removeSync(key);
      this.#problems.clear('tables', key);
    }
  }

  /** The next intent number; survives a lost or damaged counter by never going below the journal's ids. */
  #nextIntentSeq(env: Env): number {
    let last = 0;
    const raw = env.meta.get(INTENT_SEQ_KEY);
    const decoded = raw === undefined ? undefined : decode(raw);
    if (decoded?.ok === true && typeof decoded.value === 'number' && Number.isSafeInteger(decoded.value)) last = decoded.value;
    for (const key of env.intents.getKeys({ reverse: true, limit: 1 })) {
      const n = typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : 0;
      if (n > last) last = n;
    }
    return last + 1;
  }

  #scanAll(): void {
    const env = this.#reading();
    this.#nics(env);
    this.#pods(env);
    this.#tables(env);
    this.#intents(env);
  }
}
