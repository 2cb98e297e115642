import type { QingCloudApi } from '../api.ts';
import { abortReason, systemClock, type Clock } from '../clock.ts';
import { JobFailedError, JobNotFoundError, JobTimeoutError } from '../errors.ts';
import type { Job } from '../types.ts';
import { decodeJob } from './decoders.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireList } from './validate.ts';

export interface DescribeJobsFilter {
  jobs?: readonly string[];
  status?: readonly string[];
}

export async function describeJobs(api: QingCloudApi, filter: DescribeJobsFilter, options?: PageOptions): Promise<Job[]> {
  return listAll(api, 'DescribeJobs', { jobs: filter.jobs, status: filter.status, verbose: 0 }, 'job_set', decodeJob, options);
}

/**
 * A pending or working job of `jobAction` that touches any of `resourceIds`, found through its resource ids
 * or its directive. Used after an attempt whose outcome is unknown: if the job exists, the attempt worked.
 */
export async function findActiveJob(
  api: QingCloudApi,
  jobAction: string,
  resourceIds: readonly string[],
  signal?: AbortSignal,
): Promise<Job | undefined> {
  const wanted = new Set(resourceIds.map((id) => id.toLowerCase()));
  const jobs = await describeJobs(api, { status: ['pending', 'working'] }, { signal });
  return jobs.find((job) => {
    if (job.jobAction !== jobAction) return false;
    if (job.resourceIds.some((id) => wanted.has(id.toLowerCase()))) return true;
    const text = typeof job.directive === 'string' ? job.directive : JSON.stringify(job.directive ?? '');
    return [...wanted].some((id) => text.toLowerCase().includes(id));
  });
}

export interface WaitJobOptions {
  /** Overall bound. Default 300 s, as hostnic always used. */
  timeoutMs?: number;
  /** First poll after this long; then the interval grows by half each time. Default 500 ms. */
  initialIntervalMs?: number;
  /** Polling interval ceiling. Default 5 s. */
  maxIntervalMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Called with every status seen, e.g. for logs. */
  onStatus?: (job: Job) => void;
}

export interface JobOutcome {
  job: Job;
  /** Number of DescribeJobs polls made. */
  polls: number;
}

/**
 * Waits for a job to end. Resolves with the final job when it is `successful`; rejects with JobFailedError
 * when it `failed`, JobNotFoundError when the server no longer knows it, JobTimeoutError after the bound,
 * or the signal's reason on abort. Transient errors of a poll are ignored (the next poll decides), and
 * statuses other than the four documented ones are polled through until the bound.
 */
export async function waitJob(api: QingCloudApi, jobId: string, options: WaitJobOptions = {}): Promise<JobOutcome> {
  requireList('DescribeJobs', 'jobId', [jobId]);
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const maxInterval = options.maxIntervalMs ?? 5_000;
  let interval = options.initialIntervalMs ?? 500;
  const deadline = clock.now().getTime() + timeoutMs;
  let lastStatus: string | undefined;
  let lastPollError: unknown;
  for (let polls = 1; ; polls++) {
    const remaining = deadline - clock.now().getTime();
    if (remaining <= 0) throw new JobTimeoutError(jobId, timeoutMs, lastStatus, lastPollError);
    await clock.sleep(Math.min(interval, remaining), options.signal);
    interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
    let jobs: Job[];
    try {
      jobs = await describeJobs(api, { jobs: [jobId] }, { signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      lastPollError = err;
      continue;
    }
    const job = jobs.find((j) => j.jobId === jobId);
    if (job === undefined) throw new JobNotFoundError(jobId);
    options.onStatus?.(job);
    lastStatus = job.status;
    if (job.status === 'successful') return { job, polls };
    if (job.status === 'failed') throw new JobFailedError(jobId, job.jobAction);
  }
}
