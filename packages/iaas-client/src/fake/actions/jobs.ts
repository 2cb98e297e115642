import { paginate } from '../api-params.ts';
import { notFound } from '../errors.ts';
import type { JobRecord } from '../types.ts';
import type { ActionHandler, ActionResult } from './context.ts';
import { idFilter, inScope } from './context.ts';

function jobView(job: JobRecord): ActionResult {
  return {
    job_id: job.job_id,
    job_action: job.job_action,
    status: job.status,
    resource_ids: job.resource_ids,
    directive: job.directive,
    owner: job.owner,
    create_time: job.create_time,
    status_time: job.status_time,
  };
}

export const describeJobs: ActionHandler = (ctx) => {
  const p = ctx.params;
  const ids = p.list('jobs');
  const jobs = ctx.store.tables.jobs;
  if (ctx.settings.describeJobsUnknownIsError) {
    // Documented: asking for a job that does not exist is an error. A vanished job is different: the
    // server knows the id but has lost the record, which shows up as an empty set.
    for (const id of ids) {
      const job = jobs.get(id);
      if (job === undefined || !inScope(ctx, job)) throw notFound(id, 'job');
    }
  }
  const byId = idFilter(ids);
  const statuses = p.list('status');
  const action = p.str('job_action');
  const matches = [...jobs.values()].filter(
    (job) =>
      !job.plan.hidden &&
      inScope(ctx, job) &&
      byId(job.job_id) &&
      (statuses.length === 0 || statuses.includes(job.status)) &&
      (action === undefined || job.job_action === action),
  );
  const page = paginate(matches, p, ctx.settings.maxLimit);
  return { job_set: page.items.map(jobView), total_count: page.total_count };
};
