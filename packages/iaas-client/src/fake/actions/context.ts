import type { ApiParams } from '../api-params.ts';
import { denied, notFound } from '../errors.ts';
import type { JobEngine, JobSpec } from '../jobs.ts';
import type { IdGenerator } from '../random.ts';
import type { FakeStore } from '../store.ts';
import type { JobFault, JobRecord } from '../types.ts';

export interface ActionSettings {
  maxLimit: number;
  oneNicPerVxnetPerInstance: boolean;
  describeJobsUnknownIsError: boolean;
  hideVxnetType2ByDefault: boolean;
  vipsVisibleImmediately: boolean;
  noFreeIpRetCode: number;
}

export interface ActionContext {
  readonly action: string;
  readonly params: ApiParams;
  readonly store: FakeStore;
  readonly ids: IdGenerator;
  readonly settings: ActionSettings;
  /** Owner of the calling access key. */
  readonly owner: string;
  /** The request's zone ("" for zone-less actions). */
  readonly zone: string;
  readonly nowIso: string;
  readonly nowMs: number;
  readonly requestSeq: number;
  /** Job outcome chosen by a fault rule for the job this call creates. */
  readonly jobFault: JobFault | undefined;
  readonly lagMs: number;
  readonly jobs: JobEngine;
}

/** The fields of a JSON response besides `action` and `ret_code`. */
export type ActionResult = Record<string, unknown>;
export type ActionHandler = (ctx: ActionContext) => ActionResult;

interface Scoped {
  owner: string;
  zone: string;
}

/** Resources are scoped to the caller's account and the request's zone. */
export function inScope(ctx: ActionContext, resource: Scoped): boolean {
  return resource.owner === ctx.owner && (ctx.zone === '' || resource.zone === ctx.zone);
}

/**
 * Looks a resource up for a mutation: absent (or in another zone) → 2100 with `ResourceNotFound`;
 * someone else's → 1400.
 */
export function lookup<T extends Scoped>(ctx: ActionContext, table: ReadonlyMap<string, T>, id: string, kind?: string): T {
  const resource = table.get(id);
  if (resource === undefined || (ctx.zone !== '' && resource.zone !== ctx.zone)) throw notFound(id, kind);
  if (resource.owner !== ctx.owner) throw denied(`resource [${id}] does not belong to user [${ctx.owner}]`);
  return resource;
}

/** The records of a table as Describe* sees them: lagged, and scoped to the caller. */
export function visible<T extends Scoped>(ctx: ActionContext, name: string, table: ReadonlyMap<string, T>): T[] {
  return ctx.store.lag.view(name, table, ctx.nowMs).filter((r) => inScope(ctx, r));
}

export function createJob(ctx: ActionContext, spec: Pick<JobSpec, 'action' | 'resourceIds' | 'directive'>): JobRecord {
  return ctx.jobs.create({
    ...spec,
    owner: ctx.owner,
    zone: ctx.zone,
    requestSeq: ctx.requestSeq,
    fault: ctx.jobFault,
    lagMs: ctx.lagMs,
  });
}

/** Keeps only the ids the filter names (when it names any). */
export function idFilter(ids: readonly string[]): (id: string) => boolean {
  if (ids.length === 0) return () => true;
  const wanted = new Set(ids);
  return (id) => wanted.has(id);
}
