/**
 * Values the store could not read. They are skipped, never thrown: one bad key
 * must not take the node's pods down with it. The list is what the agent surfaces (log, API, metric) so that
 * someone looks; `quarantineProblems()` moves the bytes aside once they have.
 *
 * @packageDocumentation
 */
import type { RecordDbName } from './env.ts';
import { byCodeUnits } from '../order.ts';

export interface DatastoreProblem {
  /** The database holding the value. */
  readonly database: RecordDbName;
  /** `<database>/<key>`, e.g. `pods/3f1c…/eth0`. */
  readonly key: string;
  readonly reason: string;
  /** RFC 3339, when this process first saw it. */
  readonly seenAt: string;
}

/** The problems seen by this process, latest reason per key. */
export class ProblemLog {
  readonly #byKey = new Map<string, DatastoreProblem>();
  readonly #onNew: ((problem: DatastoreProblem) => void) | undefined;
  readonly #now: () => Date;

  constructor(now: () => Date, onNew?: (problem: DatastoreProblem) => void) {
    this.#now = now;
    this.#onNew = onNew;
  }

  report(database: RecordDbName, rawKey: unknown, reason: string): void {
    const key = `${database}/${String(rawKey)}`;
    const known = this.#byKey.get(key);
    if (known !== undefined && known.reason === reason) return;
    const problem = Object.freeze({ database, key, reason, seenAt: known?.seenAt ?? this.#now().toISOString() });
    this.#byKey.set(key, problem);
    // A logging hook must not turn a tolerated bad value into a failed read.
    try {
      this.#onNew?.(problem);
    } catch {
      /* ignored on purpose */
    }
  }

  /** The key was read fine, overwritten or deleted: whatever was wrong with it is gone. */
  clear(database: RecordDbName, rawKey: unknown): void {
    this.#byKey.delete(`${database}/${String(rawKey)}`);
  }

  list(): readonly DatastoreProblem[] {
    return Object.freeze([...this.#byKey.values()].sort((a, b) => byCodeUnits(a.key, b.key)));
  }
}
