import { FakeInputError } from './errors.ts';
import type { RateLimitRule } from './types.ts';
import { Reader, stringOrList } from './validate.ts';

export type StoredRateLimitRule = RateLimitRule & { id: string };

export function parseRateLimitRule(value: unknown, path = ''): RateLimitRule {
  const r = new Reader(value, path);
  const rule: RateLimitRule = {
    per: r.string('per', { oneOf: ['accessKey', 'action'] }) as 'accessKey' | 'action',
    ratePerSecond: r.number('ratePerSecond', { min: 0 }),
    burst: r.number('burst', { min: 1 }),
  };
  const id = r.optString('id', { pattern: /^\S+$/, hint: 'a non-empty id without spaces' });
  if (id !== undefined) rule.id = id;
  const action = stringOrList(r, 'action');
  if (action !== undefined) rule.action = action;
  const retCode = r.optInt('retCode', { min: 1 });
  if (retCode !== undefined) rule.retCode = retCode;
  const message = r.optString('message');
  if (message !== undefined) rule.message = message;
  r.done();
  return rule;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets on the fake clock (virtual mode: they refill only when the test advances time, which keeps
 * rate-limit tests deterministic).
 */
export class RateLimiter {
  #rules: StoredRateLimitRule[] = [];
  #buckets = new Map<string, Bucket>();
  #next = 1;

  add(input: RateLimitRule): string {
    const rule = parseRateLimitRule(input);
    const id = rule.id ?? `rate-${this.#next++}`;
    if (this.#rules.some((r) => r.id === id)) throw new FakeInputError('id', `rate limit ${id} already exists`);
    this.#rules.push({ ...rule, id });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    for (const key of this.#buckets.keys()) if (key.startsWith(`${id}\u0000`)) this.#buckets.delete(key);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
    this.#buckets.clear();
  }

  list(): StoredRateLimitRule[] {
    return structuredClone(this.#rules);
  }

  /** Takes a token from every bucket the call falls under; the first empty one rejects the call. */
  take(action: string, accessKeyId: string, nowMs: number): StoredRateLimitRule | undefined {
    for (const rule of this.#rules) {
      const actions = rule.action === undefined ? undefined : typeof rule.action === 'string' ? [rule.action] : rule.action;
      if (actions !== undefined && !actions.includes(action)) continue;
      const key = `${rule.id}\u0000${rule.per === 'accessKey' ? accessKeyId : action}`;
      const bucket = this.#buckets.get(key) ?? { tokens: rule.burst, at: nowMs };
      const refill = (Math.max(0, nowMs - bucket.at) / 1000) * rule.ratePerSecond;
      bucket.tokens = Math.min(rule.burst, bucket.tokens + refill);
      bucket.at = nowMs;
      this.#buckets.set(key, bucket);
      if (bucket.tokens < 1) return rule;
      bucket.tokens -= 1;
    }
    return undefined;
  }
}
