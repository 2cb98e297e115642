import { afterEach, describe, expect, it } from 'vitest';
import type { FakeQingCloud, HostEvent } from '../../src/fake/index.ts';
import { call, eventually, fakes, jobIdOf, ok, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

const VXNET = 'vxnet-job1234';

async function setup(options: Parameters<typeof f.start>[0] = {}): Promise<{ fake: FakeQingCloud; instance: string; nic: string }> {
  const fake = await f.start(options);
  fake.addVxnet({ vxnet_id: VXNET });
  const instance = fake.addInstance({ vxnet_id: VXNET }).instance_id;
  const nic = fake.addNic({ vxnet_id: VXNET, nic_name: 'n' }).nic_id;
  return { fake, instance, nic };
}

async function job(fake: FakeQingCloud, id: string): Promise<Record<string, unknown> | undefined> {
  return set(await ok(fake, 'DescribeJobs', { 'jobs.1': id }), 'job_set')[0];
}

async function attach(fake: FakeQingCloud, instance: string, nic: string): Promise<string> {
  return jobIdOf(await ok(fake, 'AttachNics', { instance, 'nics.1': nic }));
}

describe('job lifecycle on the virtual clock', () => {
  it('pending → working → successful, with status_time at each transition', async () => {
    const { fake, instance, nic } = await setup({ jobDurations: { pendingMs: 500, workMs: 3000 } });
    const id = await attach(fake, instance, nic);
    expect(await job(fake, id)).toEqual({
      job_id: id,
      job_action: 'AttachNics',
      status: 'pending',
      resource_ids: `${nic} ${instance}`,
      directive: JSON.stringify({ nics: [nic], instance }),
      owner: 'usr-example1',
      create_time: '2013-08-27T14:30:10Z',
      status_time: '2013-08-27T14:30:10Z',
    });
    await fake.clock.advance(500);
    expect(await job(fake, id)).toMatchObject({ status: 'working', status_time: '2013-08-27T14:30:10Z' });
    await fake.clock.advance(2999);
    expect(await job(fake, id)).toMatchObject({ status: 'working' });
    await fake.clock.advance(10_000);
    // The transition happened at its due time, not at the end of the advance.
    expect(await job(fake, id)).toMatchObject({ status: 'successful', status_time: '2013-08-27T14:30:13Z' });
  });

  it('with no pending time a job is working from the start', async () => {
    const { fake, instance, nic } = await setup();
    const id = await attach(fake, instance, nic);
    expect(await job(fake, id)).toMatchObject({ status: 'working' });
  });

  it('a successful attach job implies the (async) host hook ran, with MAC, instance and vxnet', async () => {
    const order: string[] = [];
    const { fake, instance, nic } = await setup({
      hostHook: async (event) => {
        order.push(`hook ${event.event}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(`hook done, nic ${fake.nics().find((n) => n.nic_id === event.nicId)?.status}`);
      },
    });
    const events: HostEvent[] = [];
    fake.onHostEvent((e) => events.push(e));
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(2000);
    expect(order).toEqual(['hook nic-attached', 'hook done, nic available']);
    expect(await job(fake, id)).toMatchObject({ status: 'successful' });
    expect(events).toEqual([{ event: 'nic-attached', nicId: nic, instanceId: instance, vxnetId: VXNET }]);

    const detach = jobIdOf(await ok(fake, 'DetachNics', { 'nics.1': nic }));
    await fake.clock.advance(2000);
    expect(await job(fake, detach)).toMatchObject({ status: 'successful' });
    expect(events.at(-1)).toEqual({ event: 'nic-detached', nicId: nic, instanceId: instance, vxnetId: VXNET });
    expect(fake.events()).toHaveLength(2);
  });

  it('a throwing host hook is logged on the request and does not stop the job or the server', async () => {
    const lines: string[] = [];
    const { fake, instance, nic } = await setup({
      hostHook: () => {
        throw new Error('no netns');
      },
      log: (line) => lines.push(line),
    });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(2000);
    expect(await job(fake, id)).toMatchObject({ status: 'successful' });
    expect(fake.requests({ action: 'AttachNics' })[0]?.notes).toEqual([`host hook failed for nic-attached ${nic}: Error: no netns`]);
    expect(lines.some((l) => l.includes('no netns'))).toBe(true);
  });

  it('hookFailureFailsJob turns a hook error into a failed job', async () => {
    const { fake, instance, nic } = await setup({ hookFailureFailsJob: true, hostHook: () => Promise.reject(new Error('x')) });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(2000);
    expect(await job(fake, id)).toMatchObject({ status: 'failed' });
    expect(fake.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'available', lock: null });
  });

  it('DescribeJobs filters by status.N and paginates', async () => {
    const { fake, instance, nic } = await setup();
    const first = await attach(fake, instance, nic);
    await fake.clock.advance(2000);
    const other = fake.addNic({ vxnet_id: VXNET }).nic_id;
    const second = await attach(fake, instance, other);
    const active = set<{ job_id: string }>(await ok(fake, 'DescribeJobs', { 'status.1': 'pending', 'status.2': 'working' }), 'job_set');
    expect(active.map((j) => j.job_id)).toEqual([second]);
    const all = await ok(fake, 'DescribeJobs', { limit: 1 });
    expect(all['total_count']).toBe(2);
    expect(set<{ job_id: string }>(all, 'job_set').map((j) => j.job_id)).toEqual([first]);
  });
});

describe('job outcomes chosen by faults', () => {
  it('fail: the job fails and the NIC is unlocked and unchanged', async () => {
    const { fake, instance, nic } = await setup();
    fake.faults.add({ action: 'AttachNics', job: 'fail' });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(2000);
    expect(await job(fake, id)).toMatchObject({ status: 'failed' });
    expect(fake.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'available', lock: null, instance_id: '' });
    expect(fake.events()).toEqual([]);
  });

  it('stuck: working forever, NIC stays locked', async () => {
    const { fake, instance, nic } = await setup();
    fake.faults.add({ action: 'AttachNics', job: 'stuck' });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(3_600_000);
    expect(await job(fake, id)).toMatchObject({ status: 'working' });
    expect(fake.nics().find((n) => n.nic_id === nic)?.lock).toBe(id);
  });

  it('vanish: DescribeJobs answers an empty set for it (not an error)', async () => {
    const { fake, instance, nic } = await setup();
    fake.faults.add({ action: 'AttachNics', job: 'vanish' });
    const id = await attach(fake, instance, nic);
    const body = await ok(fake, 'DescribeJobs', { 'jobs.1': id });
    expect(body).toMatchObject({ job_set: [], total_count: 0 });
  });

  it('custom durations', async () => {
    const { fake, instance, nic } = await setup();
    fake.faults.add({ action: 'AttachNics', job: { workMs: 10_000 } });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(9_999);
    expect(await job(fake, id)).toMatchObject({ status: 'working' });
    await fake.clock.advance(1);
    expect(await job(fake, id)).toMatchObject({ status: 'successful' });
  });

  it('an unknown job id is 2100, or an empty set when so configured', async () => {
    const strict = await f.start();
    const missing = await call(strict, 'DescribeJobs', { 'jobs.1': 'j-nothere0' });
    expect(missing).toEqual({ ret_code: 2100, message: 'ResourceNotFound, job [j-nothere0] not found' });
    const lenient = await f.start({ describeJobsUnknownIsError: false });
    expect(await ok(lenient, 'DescribeJobs', { 'jobs.1': 'j-nothere0' })).toMatchObject({ job_set: [], total_count: 0 });
  });
});

describe('realtime clock', () => {
  it('jobs finish on timers', async () => {
    const { fake, instance, nic } = await setup({ clock: 'realtime', jobDurations: { workMs: 20 } });
    const id = await attach(fake, instance, nic);
    await eventually(async () => (await job(fake, id))?.['status'] === 'successful', 'attach job succeeds');
    expect(fake.nics().find((n) => n.nic_id === nic)?.status).toBe('in-use');
  });

  it('advance() also works in realtime mode', async () => {
    const { fake, instance, nic } = await setup({ clock: 'realtime', jobDurations: { workMs: 3_600_000 } });
    const id = await attach(fake, instance, nic);
    await fake.clock.advance(3_600_000);
    expect(await job(fake, id)).toMatchObject({ status: 'successful' });
  });
});
