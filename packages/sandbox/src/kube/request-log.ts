import { resourceMatches } from './faults.ts';
import type { Verb } from './faults.ts';

export interface RequestLogEntry {
  readonly seq: number;
  /** Milliseconds since the epoch when the request arrived. */
  readonly at: number;
  readonly method: string;
  /** The authenticated user (`admin` for the server's own token); undefined when the credentials proved no one. */
  readonly user: string | undefined;
  readonly path: string;
  /** The raw query string without `?`. */
  readonly query: string;
  readonly verb: Verb | undefined;
  readonly group: string | undefined;
  readonly resource: string | undefined;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** HTTP status; 0 while no header has been sent. A watch shows 200 as soon as its stream starts. */
  readonly status: number;
  /** Time to the response header (for watches: to the start of the stream). */
  readonly durationMs: number;
}

export type RequestLogFilter =
  | ((entry: RequestLogEntry) => boolean)
  | {
      readonly verb?: Verb | readonly Verb[];
      readonly resource?: string;
      readonly namespace?: string;
      readonly name?: string;
      readonly status?: number;
      readonly method?: string;
      readonly user?: string;
    };

type MutableEntry = { -readonly [K in keyof RequestLogEntry]: RequestLogEntry[K] };

function filterMatches(filter: RequestLogFilter | undefined, entry: RequestLogEntry): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(entry);
  if (filter.verb !== undefined) {
    const verbs: readonly string[] = typeof filter.verb === 'string' ? [filter.verb] : filter.verb;
    if (entry.verb === undefined || !verbs.includes(entry.verb)) return false;
  }
  if (filter.resource !== undefined && !resourceMatches(filter.resource, entry)) return false;
  if (filter.namespace !== undefined && filter.namespace !== entry.namespace) return false;
  if (filter.name !== undefined && filter.name !== entry.name) return false;
  if (filter.status !== undefined && filter.status !== entry.status) return false;
  if (filter.method !== undefined && filter.method !== entry.method) return false;
  if (filter.user !== undefined && filter.user !== entry.user) return false;
  return true;
}

/** A bounded record of what clients asked and what they got. */
export class RequestLog {
  readonly #entries: MutableEntry[] = [];
  readonly #limit: number;
  #seq = 0;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  begin(fields: Omit<RequestLogEntry, 'seq' | 'at' | 'status' | 'durationMs'>): (status: number) => void {
    const started = performance.now();
    const entry: MutableEntry = { ...fields, seq: ++this.#seq, at: Date.now(), status: 0, durationMs: 0 };
    this.#entries.push(entry);
    if (this.#entries.length > this.#limit) this.#entries.shift();
    return (status) => {
      if (entry.status !== 0) return;
      entry.status = status;
      entry.durationMs = performance.now() - started;
    };
  }

  entries(filter?: RequestLogFilter): RequestLogEntry[] {
    return this.#entries.filter((e) => filterMatches(filter, e)).map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
