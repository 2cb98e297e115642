import { FakeInputError } from './errors.ts';
import type { SeededRandom } from './random.ts';
import type { FaultRule, FaultRuleStatus, FieldValue, JobFault } from './types.ts';
import { Reader, stringOrList } from './validate.ts';

export type StoredFaultRule = FaultRule & { id: string };

const EFFECTS = [
  'retCode',
  'latencyMs',
  'hang',
  'drop',
  'dropAfterEffect',
  'refuseMs',
  'httpStatus',
  'contentType',
  'rawBody',
  'omitField',
  'nullField',
  'wrongType',
  'job',
  'lagMs',
] as const satisfies readonly (keyof FaultRule)[];

function intOrList(reader: Reader, key: string): number | number[] | undefined {
  const value = reader.raw(key);
  if (value === undefined) return undefined;
  const check = (v: unknown, path: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new FakeInputError(path, 'must be a positive integer');
    return v;
  };
  return Array.isArray(value) ? value.map((v: unknown, i: number) => check(v, `${reader.field(key)}.${i}`)) : check(value, reader.field(key));
}

function latency(reader: Reader): number | [number, number] | undefined {
  const value = reader.raw('latencyMs');
  if (value === undefined) return undefined;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (ok(value)) return value;
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1]) && value[0] <= value[1]) {
    return [value[0], value[1]];
  }
  throw new FakeInputError(reader.field('latencyMs'), 'must be a number of ms or [min, max]');
}

function fieldValue(value: unknown, path: string): FieldValue {
  const r = new Reader(value, path);
  const out = { path: r.string('path'), value: r.raw('value') };
  if (!r.has('value')) throw new FakeInputError(r.field('value'), 'is required');
  r.done();
  return out;
}

function jobFault(reader: Reader): JobFault | undefined {
  const value = reader.raw('job');
  if (value === undefined) return undefined;
  if (value === 'fail' || value === 'stuck' || value === 'vanish') return value;
  if (typeof value === 'string') throw new FakeInputError(reader.field('job'), 'must be fail, stuck, vanish or an object');
  const r = new Reader(value, reader.field('job'));
  const out: JobFault = {};
  const outcome = r.optString('outcome', { oneOf: ['successful', 'fail', 'stuck', 'vanish'] });
  if (outcome !== undefined) out.outcome = outcome as 'successful' | 'fail' | 'stuck' | 'vanish';
  const pendingMs = r.optNumber('pendingMs', { min: 0 });
  if (pendingMs !== undefined) out.pendingMs = pendingMs;
  const workMs = r.optNumber('workMs', { min: 0 });
  if (workMs !== undefined) out.workMs = workMs;
  r.done();
  return out;
}

/** Validates a rule from any source; the result carries only known, well-typed fields. */
export function parseFaultRule(value: unknown, path = ''): FaultRule {
  const r = new Reader(value, path);
  const rule: FaultRule = {};
  const set = <K extends keyof FaultRule>(key: K, v: FaultRule[K] | undefined): void => {
    if (v !== undefined) rule[key] = v;
  };
  set('id', r.optString('id', { pattern: /^\S+$/, hint: 'a non-empty id without spaces' }));
  set('action', stringOrList(r, 'action'));
  const params = r.raw('params');
  if (params !== undefined) {
    const pr = new Reader(params, r.field('params'));
    const out: Record<string, string> = {};
    for (const key of Object.keys(params as object)) out[key] = pr.string(key);
    rule.params = out;
  }
  set('resourceId', r.optString('resourceId'));
  set('callIndex', intOrList(r, 'callIndex'));
  set('afterN', r.optInt('afterN', { min: 0 }));
  set('times', r.optInt('times', { min: 0 }));
  set('probability', r.optNumber('probability', { min: 0, max: 1 }));
  set('retCode', r.optInt('retCode', { min: 1 }));
  set('message', r.optString('message'));
  set('latencyMs', latency(r));
  set('hang', r.optBoolean('hang'));
  set('drop', r.optBoolean('drop'));
  set('dropAfterEffect', r.optBoolean('dropAfterEffect'));
  set('refuseMs', r.optNumber('refuseMs', { min: 0 }));
  set('httpStatus', r.optInt('httpStatus', { min: 100, max: 599 }));
  set('contentType', r.optString('contentType'));
  set('rawBody', r.optString('rawBody'));
  set('omitField', stringOrList(r, 'omitField'));
  set('nullField', stringOrList(r, 'nullField'));
  const wrong = r.raw('wrongType');
  if (wrong !== undefined) {
    rule.wrongType = Array.isArray(wrong)
      ? wrong.map((w: unknown, i: number) => fieldValue(w, `${r.field('wrongType')}.${i}`))
      : fieldValue(wrong, r.field('wrongType'));
  }
  set('job', jobFault(r));
  set('lagMs', r.optNumber('lagMs', { min: 0 }));
  r.done();
  if (!EFFECTS.some((key) => rule[key] !== undefined && rule[key] !== false)) {
    throw new FakeInputError(path || '(rule)', `needs at least one effect (${EFFECTS.join(', ')})`);
  }
  if (rule.message !== undefined && rule.retCode === undefined) {
    throw new FakeInputError(r.field('message'), 'only makes sense with retCode');
  }
  return rule;
}

export function effectNames(rule: FaultRule): string[] {
  return EFFECTS.filter((key) => rule[key] !== undefined && rule[key] !== false);
}

export interface FaultCall {
  action: string | null;
  params: Readonly<Record<string, string>>;
  seq: number;
}

interface Slot {
  rule: StoredFaultRule;
  matched: number;
  applied: number;
}

function asList<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Fault rules in order; the first rule that matches a call and passes its gates applies to it. */
export class FaultBook {
  #slots: Slot[] = [];
  #next = 1;
  readonly #random: SeededRandom;

  constructor(random: SeededRandom) {
    this.#random = random;
  }

  add(input: FaultRule): string {
    const rule = parseFaultRule(input);
    const id = rule.id ?? `fault-${this.#next++}`;
    if (this.#slots.some((s) => s.rule.id === id)) throw new FakeInputError('id', `fault rule ${id} already exists`);
    this.#slots.push({ rule: { ...rule, id }, matched: 0, applied: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#slots.length;
    this.#slots = this.#slots.filter((s) => s.rule.id !== id);
    return this.#slots.length < before;
  }

  clear(): void {
    this.#slots = [];
  }

  list(): FaultRuleStatus[] {
    return this.#slots.map((s) => structuredClone({ rule: s.rule, matched: s.matched, applied: s.applied }));
  }

  match(call: FaultCall): StoredFaultRule | undefined {
    for (const slot of this.#slots) {
      if (!this.#criteriaHold(slot.rule, call)) continue;
      slot.matched++;
      const { afterN = 0, times, probability } = slot.rule;
      if (slot.matched <= afterN) continue;
      if (times !== undefined && slot.applied >= times) continue;
      if (probability !== undefined && this.#random.next() >= probability) continue;
      slot.applied++;
      return slot.rule;
    }
    return undefined;
  }

  #criteriaHold(rule: FaultRule, call: FaultCall): boolean {
    const actions = asList(rule.action);
    if (actions !== undefined && (call.action === null || !actions.includes(call.action))) return false;
    if (rule.params !== undefined) {
      for (const [key, value] of Object.entries(rule.params)) if (call.params[key] !== value) return false;
    }
    if (rule.resourceId !== undefined && !Object.values(call.params).includes(rule.resourceId)) return false;
    const indexes = asList(rule.callIndex);
    if (indexes !== undefined && !indexes.includes(call.seq)) return false;
    return true;
  }
}
