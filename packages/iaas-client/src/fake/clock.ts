import type { ClockMode } from './types.ts';

interface Task {
  at: number;
  seq: number;
  run: () => void | Promise<void>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The fake's notion of time plus a scheduler for job transitions.
 *
 * Virtual mode: time moves only in `advance()`, which steps to each due task in order, so a transition's
 * status_time is exactly its due time. Realtime mode: time is the wall clock shifted by an offset, tasks
 * run on timers, and `advance()` shifts the offset. Either way tasks run one at a time on one promise
 * chain, so a slow host hook delays later transitions instead of interleaving with them.
 *
 * Skew shifts only what the server reports and checks time stamps against, not when tasks fall due.
 */
export class FakeClock {
  readonly mode: ClockMode;
  readonly #start: number;
  /** Realtime without a start time follows the wall clock exactly, also after a reset. */
  readonly #followsWallClock: boolean;
  #virtualNow: number;
  #offset: number;
  #skew = 0;
  #tasks: Task[] = [];
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly #onError: (err: unknown) => void;

  constructor(mode: ClockMode, start: number | undefined, onError: (err: unknown) => void) {
    this.mode = mode;
    this.#start = start ?? Date.now();
    this.#followsWallClock = start === undefined;
    this.#virtualNow = this.#start;
    this.#offset = start === undefined ? 0 : start - Date.now();
    this.#onError = onError;
  }

  /** Unskewed milliseconds: the time base of the scheduler, job plans, lag and rate limits. */
  nowMs(): number {
    return this.mode === 'virtual' ? this.#virtualNow : Date.now() + this.#offset;
  }

  /** The server's time as it reports it and checks `time_stamp` against. */
  now(): Date {
    return new Date(this.nowMs() + this.#skew);
  }

  get skewMs(): number {
    return this.#skew;
  }

  setSkew(ms: number): void {
    this.#skew = ms;
  }

  /** Jump to a time without running tasks (they run on the next advance or timer). */
  set(time: Date | string | number): void {
    const ms = new Date(time).getTime();
    if (Number.isNaN(ms)) throw new RangeError(`invalid time ${String(time)}`);
    if (this.mode === 'virtual') this.#virtualNow = ms;
    else this.#offset = ms - Date.now();
    this.#rearmTimers();
  }

  /** Back to the start time (realtime without one: back to the wall clock), no skew, no tasks. */
  reset(): void {
    this.cancelAll();
    this.#skew = 0;
    this.#virtualNow = this.#start;
    this.#offset = this.#followsWallClock ? 0 : this.#start - Date.now();
  }

  schedule(at: number, run: () => void | Promise<void>): void {
    const task: Task = { at, seq: this.#seq++, run, timer: undefined };
    this.#tasks.push(task);
    this.#arm(task);
  }

  /** Advances time by `ms`, running every task that falls due, in due order. */
  advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(`cannot advance by ${ms} ms`));
    return this.#enqueue(async () => {
      if (this.mode === 'realtime') {
        this.#offset += ms;
        this.#rearmTimers();
        await this.#runDue(this.nowMs());
        return;
      }
      const target = this.#virtualNow + ms;
      await this.#runDue(target);
      this.#virtualNow = Math.max(this.#virtualNow, target);
    });
  }

  /** Waits until every task already queued to run has run. */
  idle(): Promise<void> {
    return this.#enqueue(() => undefined);
  }

  cancelAll(): void {
    for (const task of this.#tasks) clearTimeout(task.timer);
    this.#tasks = [];
  }

  #enqueue(work: () => void | Promise<void>): Promise<void> {
    const next = this.#chain.then(work);
    // The chain itself must never reject, or every later advance would fail too.
    this.#chain = next.catch((err: unknown) => this.#onError(err));
    return next;
  }

  async #runDue(until: number): Promise<void> {
    for (;;) {
      const task = this.#earliestDue(until);
      if (task === undefined) return;
      this.#tasks.splice(this.#tasks.indexOf(task), 1);
      clearTimeout(task.timer);
      if (this.mode === 'virtual' && task.at > this.#virtualNow) this.#virtualNow = task.at;
      try {
        await task.run();
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  #earliestDue(until: number): Task | undefined {
    let best: Task | undefined;
    for (const task of this.#tasks) {
      if (task.at > until) continue;
      if (best === undefined || task.at < best.at || (task.at === best.at && task.seq < best.seq)) best = task;
    }
    return best;
  }

  #arm(task: Task): void {
    if (this.mode !== 'realtime') return;
    clearTimeout(task.timer);
    const delay = Math.max(0, task.at - this.nowMs());
    task.timer = setTimeout(() => {
      // Timers run on a monotonic clock and may fire a millisecond before Date.now() reaches `at`; the
      // task whose timer fired is due by definition, or it would never run.
      void this.#enqueue(() => this.#runDue(Math.max(this.nowMs(), task.at)));
    }, delay);
    task.timer.unref();
  }

  #rearmTimers(): void {
    for (const task of this.#tasks) this.#arm(task);
  }
}
