import type { FakeClock } from './clock.ts';
import type { HostEventHub } from './host-events.ts';
import { applyFailure, applySuccess, hostEventsFor } from './job-effects.ts';
import type { IdGenerator } from './random.ts';
import type { FakeStore } from './store.ts';
import { formatTimestamp } from '../sign.ts';
import type { JobFault, JobPlan, JobRecord } from './types.ts';

export interface JobSpec {
  action: string;
  /** Become `resource_ids`, space separated. */
  resourceIds: readonly string[];
  directive: Readonly<Record<string, unknown>>;
  owner: string;
  zone: string;
  requestSeq: number | null;
  fault: JobFault | undefined;
  lagMs: number;
}

export interface JobEngineDeps {
  store: FakeStore;
  clock: FakeClock;
  ids: IdGenerator;
  hub: HostEventHub;
  durations: () => { pendingMs: number; workMs: number };
  hookFailureFailsJob: boolean;
  /** Remarks about a job that belong to the call that created it. */
  note: (requestSeq: number | null, text: string) => void;
}

function planFor(fault: JobFault | undefined, defaults: { pendingMs: number; workMs: number }): {
  outcome: JobPlan['outcome'];
  hidden: boolean;
  pendingMs: number;
  workMs: number;
} {
  const spec = typeof fault === 'string' ? { outcome: fault } : (fault ?? {});
  const outcome = spec.outcome ?? 'successful';
  return {
    outcome: outcome === 'fail' ? 'failed' : outcome === 'stuck' ? 'stuck' : 'successful',
    hidden: outcome === 'vanish',
    pendingMs: spec.pendingMs ?? defaults.pendingMs,
    workMs: spec.workMs ?? defaults.workMs,
  };
}

/**
 * Jobs go pending → working → successful|failed on the fake clock. Effects (and the host hook) happen
 * exactly at the final transition; until then the job's resources stay locked.
 */
export class JobEngine {
  readonly #deps: JobEngineDeps;

  constructor(deps: JobEngineDeps) {
    this.#deps = deps;
  }

  create(spec: JobSpec): JobRecord {
    const { store, clock, ids } = this.#deps;
    const plan = planFor(spec.fault, this.#deps.durations());
    const now = clock.nowMs();
    const nowIso = formatTimestamp(clock.now());
    const job: JobRecord = {
      job_id: ids.id('j-', 8, (id) => store.hasId(id)),
      job_action: spec.action,
      // With no pending time the job is already working when anybody can first look at it.
      status: plan.pendingMs > 0 ? 'pending' : 'working',
      resource_ids: spec.resourceIds.join(' '),
      directive: JSON.stringify(spec.directive),
      owner: spec.owner,
      zone: spec.zone,
      create_time: nowIso,
      status_time: nowIso,
      plan: {
        outcome: plan.outcome,
        hidden: plan.hidden,
        working_at: plan.pendingMs > 0 ? now + plan.pendingMs : null,
        done_at: plan.outcome === 'stuck' ? null : now + plan.pendingMs + plan.workMs,
        lag_ms: spec.lagMs,
      },
      request_seq: spec.requestSeq,
    };
    store.tables.jobs.set(job.job_id, job);
    this.#schedule(job);
    return job;
  }

  /** After a state replacement: put every unfinished job back on the clock. */
  scheduleAll(): void {
    for (const job of this.#deps.store.tables.jobs.values()) this.#schedule(job);
  }

  #schedule(job: JobRecord): void {
    if (job.status !== 'pending' && job.status !== 'working') return;
    const generation = this.#deps.store.generation;
    const id = job.job_id;
    if (job.status === 'pending' && job.plan.working_at !== null) {
      this.#deps.clock.schedule(job.plan.working_at, () => this.#toWorking(id, generation));
    }
    if (job.plan.done_at !== null) {
      this.#deps.clock.schedule(job.plan.done_at, () => this.#finish(id, generation));
    }
  }

  #current(id: string, generation: number): JobRecord | undefined {
    if (generation !== this.#deps.store.generation) return undefined;
    const job = this.#deps.store.tables.jobs.get(id);
    return job && (job.status === 'pending' || job.status === 'working') ? job : undefined;
  }

  #toWorking(id: string, generation: number): void {
    const job = this.#current(id, generation);
    if (job?.status !== 'pending') return;
    job.status = 'working';
    job.status_time = formatTimestamp(this.#deps.clock.now());
  }

  async #finish(id: string, generation: number): Promise<void> {
    const { store, clock, hub } = this.#deps;
    let job = this.#current(id, generation);
    if (job === undefined) return;
    let outcome = job.plan.outcome;
    if (outcome === 'successful') {
      for (const event of hostEventsFor(job, store)) {
        const errors = await hub.deliver(event);
        for (const err of errors) {
          this.#deps.note(job.request_seq, `host hook failed for ${event.event} ${event.nicId}: ${String(err)}`);
        }
        if (errors.length > 0 && this.#deps.hookFailureFailsJob) outcome = 'failed';
      }
      // The hook may have taken a while; the state may have been replaced or reset meanwhile.
      job = this.#current(id, generation);
      if (job === undefined) return;
    }
    const finished = job;
    const nowIso = formatTimestamp(clock.now());
    store.mutate(finished.plan.lag_ms, clock.nowMs(), () => {
      if (outcome === 'successful') applySuccess(finished, store, nowIso);
      else applyFailure(finished, store);
    });
    finished.status = outcome === 'successful' ? 'successful' : 'failed';
    finished.status_time = nowIso;
  }
}
