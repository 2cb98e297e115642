import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonValue } from './json.ts';
import { conflict, errorForCode } from './status.ts';
import type { ApiError } from './status.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** A request as the fault rules and the request log see it (RBAC-style attributes). */
export interface RequestInfo {
  readonly method: string;
  readonly path: string;
  /** The authenticated user (`admin` for the server's own token). */
  readonly user: string | undefined;
  readonly verb: Verb | undefined;
  /** `''` for the core group; undefined for non-resource requests (discovery, health). */
  readonly group: string | undefined;
  readonly version: string | undefined;
  /** Plural, e.g. `pods`, `ipamblocks`. */
  readonly resource: string | undefined;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The decoded body of writes, when it was JSON. */
  readonly body: JsonValue | undefined;
}

/**
 * Either a predicate or a pattern. In a pattern, `resource` follows RBAC: `pods` is the pods themselves,
 * `pods/status` their status subresource, `ippools.network.qingcloud.com` names the group, `*` anything.
 */
export type RequestMatch =
  | ((info: RequestInfo) => boolean)
  | {
      readonly verb?: Verb | readonly Verb[] | '*';
      readonly resource?: string;
      readonly namespace?: string;
      readonly name?: string;
      readonly user?: string;
    };

export function resourceMatches(pattern: string, info: { group: string | undefined; resource: string | undefined; subresource: string | undefined }): boolean {
  if (pattern === '*') return true;
  if (info.resource === undefined) return false;
  const slash = pattern.indexOf('/');
  const resourcePart = slash >= 0 ? pattern.slice(0, slash) : pattern;
  const subPart = slash >= 0 ? pattern.slice(slash + 1) : undefined;
  const dot = resourcePart.indexOf('.');
  const plural = dot >= 0 ? resourcePart.slice(0, dot) : resourcePart;
  const group = dot >= 0 ? resourcePart.slice(dot + 1) : undefined;
  if (plural !== info.resource) return false;
  if (group !== undefined && group !== info.group) return false;
  if (subPart === '*') return true;
  return subPart === info.subresource;
}

export function requestMatches(match: RequestMatch | undefined, info: RequestInfo): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(info);
  if (match.verb !== undefined && match.verb !== '*') {
    const verbs: readonly string[] = typeof match.verb === 'string' ? [match.verb] : match.verb;
    if (info.verb === undefined || !verbs.includes(info.verb)) return false;
  }
  if (match.resource !== undefined && !resourceMatches(match.resource, info)) return false;
  if (match.namespace !== undefined && match.namespace !== info.namespace) return false;
  if (match.name !== undefined && match.name !== info.name) return false;
  if (match.user !== undefined && match.user !== info.user) return false;
  return true;
}

interface FailRule {
  readonly match: RequestMatch;
  readonly error: (info: RequestInfo) => ApiError;
  remaining: number;
}

interface DelayRule {
  readonly match: RequestMatch;
  readonly ms: number | ((info: RequestInfo) => number);
}

/** Matching requests held until released, for a test that must act while one is in flight. */
export interface Hold {
  /** How many matching requests are waiting now. */
  held(): number;
  /** Lets the waiting requests (and every later one) through, and removes the rule. */
  release(): void;
}

interface HoldRule {
  readonly match: RequestMatch;
  readonly gate: Promise<void>;
  readonly open: () => void;
  waiting: number;
}

export interface FailOptions {
  /** How many matching requests fail; default: every one until the returned function is called. */
  readonly times?: number;
  readonly message?: string;
}

/**
 * Scripted misbehaviour, checked for every API request after its body has been read and before it
 * touches the store: delays first, then the oldest matching failure rule that still has uses left.
 */
export class Faults {
  readonly #fails: FailRule[] = [];
  readonly #delays: DelayRule[] = [];
  readonly #holds: HoldRule[] = [];

  /** Answer matching requests with a 409 Conflict as if the object had changed underneath. */
  conflictOn(match: RequestMatch, options: FailOptions = {}): () => void {
    return this.#addFail(match, options.times ?? Infinity, (info) =>
      conflict({ group: info.group ?? '', plural: info.resource ?? '', kind: '' }, info.name ?? '', options.message));
  }

  /** Answer the next `times` requests with this verb on this resource with `status`. */
  failNext(verb: Verb | '*', resource: string, status: number, times = 1, message?: string): () => void {
    return this.fail({ verb, resource }, status, { times, message });
  }

  /** Answer matching requests with `status` and a Status body whose reason matches the code. */
  fail(match: RequestMatch, status: number, options: FailOptions = {}): () => void {
    return this.#addFail(match, options.times ?? Infinity, () => errorForCode(status, options.message));
  }

  /** Hold matching requests for `ms` before serving them (watches: before the stream starts). */
  delay(match: RequestMatch, ms: number | ((info: RequestInfo) => number)): () => void {
    const rule: DelayRule = { match, ms };
    this.#delays.push(rule);
    return () => {
      const index = this.#delays.indexOf(rule);
      if (index >= 0) this.#delays.splice(index, 1);
    };
  }

  /**
   * Hold matching requests until `release()`: the test waits for `held() > 0` (state, not a timer) and knows
   * the request is in flight at exactly that point.
   */
  hold(match: RequestMatch): Hold {
    const { promise, resolve } = Promise.withResolvers<void>();
    const rule: HoldRule = { match, gate: promise, open: resolve, waiting: 0 };
    this.#holds.push(rule);
    return {
      held: () => rule.waiting,
      release: () => {
        const index = this.#holds.indexOf(rule);
        if (index >= 0) this.#holds.splice(index, 1);
        rule.open();
      },
    };
  }

  /** Forgets every rule; held requests go on. */
  clear(): void {
    this.#fails.length = 0;
    this.#delays.length = 0;
    for (const rule of this.#holds.splice(0)) rule.open();
  }

  #addFail(match: RequestMatch, times: number, error: (info: RequestInfo) => ApiError): () => void {
    const rule: FailRule = { match, error, remaining: times };
    this.#fails.push(rule);
    return () => {
      const index = this.#fails.indexOf(rule);
      if (index >= 0) this.#fails.splice(index, 1);
    };
  }

  /** Waits out the delays, then returns the error to answer with, if any. */
  async apply(info: RequestInfo): Promise<ApiError | undefined> {
    let wait = 0;
    for (const rule of this.#delays) {
      if (requestMatches(rule.match, info)) wait += typeof rule.ms === 'function' ? rule.ms(info) : rule.ms;
    }
    if (wait > 0) await sleep(wait);
    for (const rule of [...this.#holds]) {
      if (!requestMatches(rule.match, info)) continue;
      rule.waiting += 1;
      await rule.gate;
      rule.waiting -= 1;
    }
    for (const rule of this.#fails) {
      if (rule.remaining <= 0 || !requestMatches(rule.match, info)) continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.#fails.splice(this.#fails.indexOf(rule), 1);
      return rule.error(info);
    }
    return undefined;
  }
}
