import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobFailedError, JobNotFoundError, JobTimeoutError } from '../src/index.ts';
import { startHarness, type Harness } from './helpers.ts';

let h: Harness;
let instanceId: string;
let nicId: string;
const VXNET = 'vxnet-abc1234';

beforeEach(async () => {
  h = await startHarness();
  h.fake.addVxnet({ vxnet_id: VXNET });
  instanceId = h.fake.addInstance({ vxnet_id: VXNET }).instance_id;
  nicId = h.fake.addNic({ vxnet_id: VXNET, nic_name: 'n' }).nic_id;
});
afterEach(async () => {
  await h.close();
});

async function attachJob(): Promise<string> {
  const { jobId } = await h.client.attachNics({ nics: [nicId], instance: instanceId });
  return jobId!;
}

describe('waitJob', () => {
  it('polls DescribeJobs for the job until it succeeds', async () => {
    const jobId = await attachJob();
    const seen: string[] = [];
    const { job, polls } = await h.client.waitJob(jobId, { initialIntervalMs: 5, onStatus: (j) => seen.push(j.status ?? '') });
    expect(job.status).toBe('successful');
    expect(job.resourceIds).toContain(nicId);
    expect(polls).toBe(seen.length);
    expect(h.fake.requests({ action: 'DescribeJobs' })[0]?.params).toMatchObject({ 'jobs.1': jobId, verbose: '0' });
  });

  it('rejects with JobFailedError for a failed job', async () => {
    h.fake.faults.add({ action: 'AttachNics', job: 'fail' });
    const jobId = await attachJob();
    const err = await h.client.waitJob(jobId, { initialIntervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as Error).message).toBe(`Job [${jobId}] failed (AttachNics)`);
  });

  it('rejects with JobTimeoutError carrying the last status when the job never ends', async () => {
    h.fake.faults.add({ action: 'AttachNics', job: 'stuck' });
    const jobId = await attachJob();
    const err = await h.client.waitJob(jobId, { initialIntervalMs: 5, maxIntervalMs: 20, timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobTimeoutError);
    expect((err as JobTimeoutError).lastStatus).toBe('working');
  });

  it('rejects with JobNotFoundError when the job vanished', async () => {
    h.fake.faults.add({ action: 'AttachNics', job: 'vanish' });
    const jobId = await attachJob();
    await expect(h.client.waitJob(jobId, { initialIntervalMs: 5 })).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('ignores a failing poll and decides on the next one', async () => {
    const jobId = await attachJob();
    h.fake.faults.add({ action: 'DescribeJobs', retCode: 1400, message: 'PermissionDenied, flaky', times: 1 });
    await expect(h.client.waitJob(jobId, { initialIntervalMs: 5 })).resolves.toMatchObject({ job: { status: 'successful' } });
  });

  it('stops at once on abort', async () => {
    h.fake.faults.add({ action: 'AttachNics', job: 'stuck' });
    const jobId = await attachJob();
    const ac = new AbortController();
    const pending = h.client.waitJob(jobId, { initialIntervalMs: 5, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('shutting down')), 30);
    await expect(pending).rejects.toThrow('shutting down');
  });
});
