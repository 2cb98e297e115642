import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IaasError,
  IaasProtocolError,
  IaasResponseError,
  IaasTransportError,
  isQuotaExceeded,
  type RequestEvent,
} from '../src/index.ts';
import { actionsLogged, startHarness, type Harness } from './helpers.ts';

let h: Harness;
let instanceId: string;
const VXNET = 'vxnet-abc1234';

beforeEach(async () => {
  h = await startHarness();
  h.fake.addVxnet({ vxnet_id: VXNET });
  instanceId = h.fake.addInstance({ vxnet_id: VXNET }).instance_id;
});
afterEach(async () => {
  await h.close();
});

const nicsNamed = (name: string): number => h.fake.nics().filter((n) => n.nic_name === name).length;

describe('reads are retried on transient failures', () => {
  it('a dropped connection twice, then an answer: three attempts', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', drop: true, times: 2 });
    const vxnets = await h.client.describeVxnets({ vxnets: [VXNET] });
    expect(vxnets).toHaveLength(1);
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(3);
  });

  it('5100 server busy once, then an answer', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', retCode: 5100, message: 'ServerBusy, try later', times: 1 });
    await expect(h.client.describeVxnets({ vxnets: [VXNET] })).resolves.toHaveLength(1);
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(2);
  });

  it('HTTP 503 once, then an answer', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', httpStatus: 503, times: 1 });
    await expect(h.client.describeVxnets({ vxnets: [VXNET] })).resolves.toHaveLength(1);
  });

  it('gives up after connection_retries + 1 attempts with the last error', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', retCode: 5000, message: 'InternalError, boom' });
    const err = await h.client.describeVxnets({ vxnets: [VXNET] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IaasError);
    expect((err as IaasError).retCode).toBe(5000);
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(4);
  });

  it('each retry is signed again with a fresh time_stamp', async () => {
    let t = Date.now();
    const c = h.newClient({
      clock: {
        now: () => new Date(t),
        sleep: async (ms) => {
          t += Math.max(ms, 1_000);
        },
      },
    });
    h.fake.faults.add({ action: 'DescribeVxnets', retCode: 5100, times: 1 });
    await c.describeVxnets({ vxnets: [VXNET] });
    const [first, second] = h.fake.requests({ action: 'DescribeVxnets' });
    expect(first?.params['time_stamp']).not.toBe(second?.params['time_stamp']);
    expect(second?.auth).toBe('ok');
  });

  it('a refused connection (server restarting) is retried', async () => {
    h.fake.faults.add({ action: 'DescribeAccessKeys', refuseMs: 100, times: 1 });
    const c = h.newClient({ backoff: { baseDelayMs: 80, maxDelayMs: 200 } }, { connection_retries: 5 });
    await expect(c.whoAmI()).resolves.toMatch(/^usr-/);
  });

  it('a hung server is cut off by requestTimeoutMs and the read retried', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', hang: true, times: 1 });
    const c = h.newClient({ requestTimeoutMs: 200 });
    await expect(c.describeVxnets({ vxnets: [VXNET] })).resolves.toHaveLength(1);
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(2);
  });

  it('an abort signal ends a call on a hung server at once, without retries', async () => {
    h.fake.faults.add({ action: 'DescribeVxnets', hang: true });
    const ac = new AbortController();
    const pending = h.client.describeVxnets({ vxnets: [VXNET] }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('operator gave up')), 50);
    await expect(pending).rejects.toThrow('operator gave up');
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(1);
  });
});

describe('errors that retrying cannot fix are not retried', () => {
  it.each([
    [{ retCode: 1400, message: 'PermissionDenied, no' }, IaasError],
    [{ retCode: 2500, message: 'QuotaExceeded, daily requests' }, IaasError],
    [{ rawBody: '{"ret_code": 0, "vxnet_set": [' }, IaasProtocolError],
    [{ contentType: 'text/html' }, IaasProtocolError],
    [{ httpStatus: 404 }, IaasTransportError],
  ])('%j', async (fault, errorClass) => {
    h.fake.faults.add({ action: 'DescribeVxnets', ...fault });
    await expect(h.client.describeVxnets({ vxnets: [VXNET] })).rejects.toBeInstanceOf(errorClass);
    expect(actionsLogged(h.fake, 'DescribeVxnets')).toBe(1);
  });

  it('a response missing a field we rely on names it', async () => {
    h.fake.addNic({ vxnet_id: VXNET });
    h.fake.faults.add({ action: 'DescribeNics', omitField: 'nic_set.*.role' });
    const err = await h.client.describeNics({ vxnets: [VXNET] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IaasResponseError);
    expect((err as Error).message).toBe('DescribeNics: response field nic_set.0.role is missing');
  });

  it('a wrongly typed field names it too', async () => {
    h.fake.addNic({ vxnet_id: VXNET });
    h.fake.faults.add({ action: 'DescribeNics', wrongType: { path: 'nic_set.*.role', value: '0' } });
    await expect(h.client.describeNics({ vxnets: [VXNET] })).rejects.toThrow('nic_set.0.role is not an integer');
  });
});

describe('no duplicate NIC under retried creates', () => {
  it('connection dropped after the NIC was made: the client finds it instead of making another', async () => {
    h.fake.faults.add({ action: 'CreateNics', dropAfterEffect: true, times: 1 });
    const created = await h.client.createNics({ vxnet: VXNET, nicName: 'hostnic_i-test', disableIp: true });
    expect(created).toHaveLength(1);
    expect(nicsNamed('hostnic_i-test')).toBe(1);
    expect(h.fake.nics().find((n) => n.nic_name === 'hostnic_i-test')?.nic_id).toBe(created[0]?.nicId);
    expect(actionsLogged(h.fake, 'CreateNics')).toBe(1);
  });

  it('connection dropped before the NIC was made: the create is retried once, one NIC', async () => {
    h.fake.faults.add({ action: 'CreateNics', drop: true, times: 1 });
    await h.client.createNics({ vxnet: VXNET, nicName: 'hostnic_i-test' });
    expect(actionsLogged(h.fake, 'CreateNics')).toBe(2);
    expect(nicsNamed('hostnic_i-test')).toBe(1);
  });

  it('server busy twice, then success: still one NIC', async () => {
    h.fake.faults.add({ action: 'CreateNics', retCode: 5100, times: 2 });
    await h.client.createNics({ vxnet: VXNET, nicName: 'hostnic_i-test' });
    expect(actionsLogged(h.fake, 'CreateNics')).toBe(3);
    expect(nicsNamed('hostnic_i-test')).toBe(1);
  });

  it('always dropped: exactly connection_retries + 1 attempts and no NIC', async () => {
    h.fake.faults.add({ action: 'CreateNics', drop: true });
    await expect(h.client.createNics({ vxnet: VXNET, nicName: 'hostnic_i-test' })).rejects.toBeInstanceOf(
      IaasTransportError,
    );
    expect(actionsLogged(h.fake, 'CreateNics')).toBe(4);
    expect(nicsNamed('hostnic_i-test')).toBe(0);
  });

  it('without a name the outcome cannot be checked: no retry, and the leaked NIC is visible in the IaaS', async () => {
    h.fake.faults.add({ action: 'CreateNics', dropAfterEffect: true, times: 1 });
    const err = await h.client.createNics({ vxnet: VXNET }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IaasTransportError);
    expect((err as IaasTransportError).delivery).toBe('maybe-sent');
    expect(actionsLogged(h.fake, 'CreateNics')).toBe(1);
    expect(h.fake.nics().filter((n) => n.vxnet_id === VXNET && n.role === 0)).toHaveLength(1);
  });

  it('attach dropped after the job started: the client returns that job (or, once it finished, none), no second attach', async () => {
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: 'n' });
    h.fake.faults.add({ action: 'AttachNics', dropAfterEffect: true, times: 1 });
    const { jobId } = await h.client.attachNics({ nics: [nic!.nicId], instance: instanceId });
    // The recover step finds the running job; on a loaded machine the job may already have finished by then,
    // and the NIC found attached is the proof instead (JobRef.jobId undefined): both mean "do not attach again".
    if (jobId !== undefined) {
      expect(jobId).toMatch(/^j-/);
      await h.client.waitJob(jobId, { initialIntervalMs: 10 });
    }
    expect(actionsLogged(h.fake, 'AttachNics')).toBe(1);
    expect((await h.client.describeNics({ nics: [nic!.nicId] }))[0]?.instanceId).toBe(instanceId);
  });

  it('delete dropped after it took effect: success, not a not-found error', async () => {
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: 'n' });
    h.fake.faults.add({ action: 'DeleteNics', dropAfterEffect: true, times: 1 });
    await expect(h.client.deleteNics([nic!.nicId])).resolves.toBeUndefined();
    expect(actionsLogged(h.fake, 'DeleteNics')).toBe(1);
  });

  it('VIP allocation dropped after the job started: the running job is returned', async () => {
    h.fake.faults.add({ action: 'AllocateVips', dropAfterEffect: true, times: 1 });
    const { jobId } = await h.client.allocateVips({ vxnetId: VXNET, vipName: 'hostnic_x', vipRange: '172.16.0.10-172.16.0.12', count: 3 });
    expect(actionsLogged(h.fake, 'AllocateVips')).toBe(1);
    if (jobId) await h.client.waitJob(jobId, { initialIntervalMs: 10 });
    expect(await h.client.describeVips({ vxnets: [VXNET], vipName: 'hostnic_x' })).toHaveLength(3);
  });
});

describe('rate limiting', () => {
  it('the client spaces out calls of one action beyond the burst', async () => {
    const events: RequestEvent[] = [];
    const c = h.newClient({
      rateLimit: { describe: null, actions: { DescribeVxnets: { ratePerSecond: 50, burst: 2 } } },
      onRequest: (e) => events.push(e),
    });
    await Promise.all(Array.from({ length: 6 }, () => c.describeVxnets({ vxnets: [VXNET] })));
    await c.describeNics({});
    const throttled = events.filter((e) => e.action === 'DescribeVxnets').map((e) => e.throttledMs > 0);
    expect(throttled.filter((t) => !t)).toHaveLength(2);
    expect(throttled.filter((t) => t)).toHaveLength(4);
    expect(events.find((e) => e.action === 'DescribeNics')?.throttledMs).toBe(0);
  });

  it("the server's own limit (2500) surfaces as a quota error, not retried", async () => {
    h.fake.setRateLimit({ per: 'accessKey', ratePerSecond: 0.001, burst: 1 });
    await h.client.describeVxnets({ vxnets: [VXNET] });
    const err = await h.client.describeVxnets({ vxnets: [VXNET] }).catch((e: unknown) => e);
    expect(isQuotaExceeded(err)).toBe(true);
  });
});
