import type { RequestLogEntry } from './types.ts';

/** Every API call, in arrival order. Entries are live until the call ends; readers get copies. */
export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;

  open(init: Pick<RequestLogEntry, 'time' | 'method' | 'path'>): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.#seq,
      ...init,
      action: null,
      params: {},
      auth: 'skipped',
      stringToSign: null,
      fault: null,
      rateLimited: null,
      retCode: null,
      httpStatus: null,
      response: null,
      outcome: 'answered',
      notes: [],
    };
    this.#entries.push(entry);
    return entry;
  }

  note(seq: number | null, text: string): void {
    if (seq === null) return;
    this.#entries.find((e) => e.seq === seq)?.notes.push(text);
  }

  list(filter: { action?: string } = {}): RequestLogEntry[] {
    const selected = filter.action === undefined ? this.#entries : this.#entries.filter((e) => e.action === filter.action);
    return structuredClone(selected);
  }

  /** Forgets everything; numbering restarts at 1 (reset also drops the faults that could refer to it). */
  clear(): void {
    this.#entries = [];
    this.#seq = 0;
  }
}
