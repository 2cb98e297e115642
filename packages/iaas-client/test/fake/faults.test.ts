import { afterEach, describe, expect, it } from 'vitest';
import type { FakeQingCloud } from '../../src/fake/index.ts';
import { buildRequest, call, callRaw, eventually, fakes, jobIdOf, ok, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

const VXNET = 'vxnet-flt1234';

async function setup(options: Parameters<typeof f.start>[0] = {}): Promise<FakeQingCloud> {
  const fake = await f.start(options);
  fake.addVxnet({ vxnet_id: VXNET });
  return fake;
}

/** The error code under fetch's TypeError('fetch failed'). */
async function transportError(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const cause = (err as { cause?: { code?: string; name?: string } }).cause;
  return cause?.code ?? cause?.name ?? (err as Error).name;
}

describe('connection faults', () => {
  it('drop: the client sees a socket error, nothing happened, and the call is logged', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'CreateNics', drop: true, times: 1 });
    expect(await transportError(call(fake, 'CreateNics', { vxnet: VXNET }))).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect(fake.nics()).toHaveLength(0);
    const [entry] = fake.requests({ action: 'CreateNics' });
    expect(entry).toMatchObject({ outcome: 'dropped', httpStatus: null, response: null, fault: { effects: ['drop'] } });
    expect((await call(fake, 'CreateNics', { vxnet: VXNET })).ret_code).toBe(0);
  });

  it('dropAfterEffect: the NIC exists though the client never heard of it', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'CreateNics', dropAfterEffect: true });
    await transportError(call(fake, 'CreateNics', { vxnet: VXNET, nic_name: 'leak', disable_ip: 1 }));
    expect(fake.nics().filter((n) => n.nic_name === 'leak')).toHaveLength(1);
    const [entry] = fake.requests({ action: 'CreateNics' });
    expect(entry).toMatchObject({ outcome: 'dropped', retCode: 0, httpStatus: null });
    expect((entry?.response as { nics: { nic_id: string }[] }).nics[0]?.nic_id).toBe(fake.nics().find((n) => n.nic_name === 'leak')?.nic_id);
  });

  it('hang: no answer within a client-side abort, and close() still completes', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'DescribeVxnets', hang: true });
    const aborted = await transportError(call(fake, 'DescribeVxnets', {}, { signal: AbortSignal.timeout(150) }));
    expect(aborted).toMatch(/TimeoutError|AbortError/);
    // A second hung request stays open while the fake closes.
    const pending = call(fake, 'DescribeVxnets').catch((e: unknown) => e);
    await eventually(() => fake.requests({ action: 'DescribeVxnets' }).length === 2, 'second request arrives');
    expect(fake.requests()[0]?.outcome).toBe('hung');
    await fake.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('refuse: connections are refused for a while, then accepted on the same port', async () => {
    const fake = await setup();
    const port = fake.endpoint.port;
    fake.faults.add({ action: 'DescribeVxnets', refuseMs: 300, times: 1 });
    await transportError(call(fake, 'DescribeVxnets'));
    expect(await transportError(call(fake, 'DescribeAccessKeys'))).toBe('ECONNREFUSED');
    await eventually(async () => (await call(fake, 'DescribeVxnets').catch(() => undefined))?.ret_code === 0, 'accepting again');
    expect(fake.endpoint.port).toBe(port);
    expect(fake.requests()[0]?.outcome).toBe('refused');
  });

  it('latencyMs delays but answers', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'DescribeVxnets', latencyMs: [5, 15] });
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
    expect(fake.requests()[0]?.fault?.effects).toEqual(['latencyMs']);
  });
});

describe('response faults', () => {
  it('retCode + message, verbatim; retCode alone gets a named message', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'DescribeVxnets', retCode: 5100, message: 'ServerBusy, try again later', times: 1 });
    fake.faults.add({ action: 'DescribeVxnets', retCode: 2500, times: 1 });
    expect(await call(fake, 'DescribeVxnets')).toEqual({ ret_code: 5100, message: 'ServerBusy, try again later' });
    expect((await call(fake, 'DescribeVxnets')).message).toMatch(/^QuotaExceeded, /);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
  });

  it('httpStatus 503 with an HTML body', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'DescribeVxnets', httpStatus: 503 });
    const res = await callRaw(fake, 'DescribeVxnets');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toContain('503 Service Unavailable');
    expect(fake.requests()[0]).toMatchObject({ httpStatus: 503, retCode: null });
  });

  it('rawBody sends malformed JSON as application/json; contentType overrides the header', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'DescribeVxnets', rawBody: '{"ret_code": 0, "vxnet_set": [', times: 1 });
    fake.faults.add({ action: 'DescribeVxnets', contentType: 'text/html', times: 1 });
    const raw = await callRaw(fake, 'DescribeVxnets');
    expect(raw.headers.get('content-type')).toBe('application/json');
    await expect(raw.json()).rejects.toThrow(SyntaxError);
    const html = await callRaw(fake, 'DescribeVxnets');
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(((await html.json()) as { ret_code: number }).ret_code).toBe(0);
  });

  it('omitField, nullField and wrongType tamper with dotted paths', async () => {
    const fake = await setup();
    fake.addVxnet({ vxnet_id: 'vxnet-flt5678' });
    fake.faults.add({ action: 'DescribeVxnets', omitField: ['vxnet_set.0.router.dyn_ip_end', 'vxnet_set.*.tunnel_type'], times: 1 });
    fake.faults.add({ action: 'DescribeVxnets', nullField: 'vxnet_set.1.router', wrongType: { path: 'vxnet_set.*.vxnet_type', value: '1' }, times: 1 });
    const [first, second] = set<Record<string, unknown>>(await ok(fake, 'DescribeVxnets'), 'vxnet_set');
    expect(first?.['router']).not.toHaveProperty('dyn_ip_end');
    expect(first).not.toHaveProperty('tunnel_type');
    expect(second).not.toHaveProperty('tunnel_type');
    expect(second?.['router']).toHaveProperty('dyn_ip_end');
    const tampered = set<Record<string, unknown>>(await ok(fake, 'DescribeVxnets'), 'vxnet_set');
    expect(tampered.map((v) => v['vxnet_type'])).toEqual(['1', '1']);
    expect(tampered[1]?.['router']).toBeNull();
    expect(tampered[0]?.['router']).not.toBeNull();
  });

  it('lagMs: Describe* shows the pre-mutation view until the lag passes', async () => {
    const fake = await setup();
    fake.faults.add({ action: 'CreateNics', lagMs: 5000 });
    const created = await ok(fake, 'CreateNics', { vxnet: VXNET, disable_ip: 1 });
    const nic = (created['nics'] as { nic_id: string }[])[0]?.nic_id ?? '';
    expect(fake.nics()).toHaveLength(1);
    expect(set(await ok(fake, 'DescribeNics', { 'nics.1': nic }), 'nic_set')).toHaveLength(0);
    await fake.clock.advance(5000);
    expect(set(await ok(fake, 'DescribeNics', { 'nics.1': nic }), 'nic_set')).toHaveLength(1);
  });

  it('lagMs on an async action lags the job’s effect', async () => {
    const fake = await setup();
    const instance = fake.addInstance({ vxnet_id: VXNET }).instance_id;
    const nic = fake.addNic({ vxnet_id: VXNET }).nic_id;
    fake.faults.add({ action: 'AttachNics', lagMs: 1000 });
    const job_id = jobIdOf(await ok(fake, 'AttachNics', { instance, 'nics.1': nic }));
    await fake.clock.advance(2000);
    expect(set(await ok(fake, 'DescribeJobs', { 'jobs.1': job_id }), 'job_set')[0]?.['status']).toBe('successful');
    const status = async (): Promise<unknown> => set(await ok(fake, 'DescribeNics', { 'nics.1': nic }), 'nic_set')[0]?.['status'];
    expect(await status()).toBe('available');
    await fake.clock.advance(1000);
    expect(await status()).toBe('in-use');
  });
});

describe('matching', () => {
  it('afterN, times, params, resourceId and callIndex select calls; first matching rule wins', async () => {
    const fake = await setup();
    const other = fake.addVxnet().vxnet_id;
    fake.faults.add({ action: ['DescribeVxnets', 'DescribeNics'], afterN: 1, times: 1, retCode: 5000 });
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
    expect((await call(fake, 'DescribeNics')).ret_code).toBe(5000);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
    fake.faults.clear();

    fake.faults.add({ params: { vxnet: other }, retCode: 1400 });
    fake.faults.add({ resourceId: VXNET, retCode: 5100 });
    fake.faults.add({ action: 'CreateNics', retCode: 2500 });
    expect((await call(fake, 'CreateNics', { vxnet: other })).ret_code).toBe(1400);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET })).ret_code).toBe(5100);
    expect((await call(fake, 'CreateNics', { vxnet: 'vxnet-nothere' })).ret_code).toBe(2500);
    fake.faults.clear();

    const next = fake.requests().length + 2;
    fake.faults.add({ callIndex: next, retCode: 5000 });
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(5000);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
  });

  it('probability is rolled with the seed: the same seed gives the same sequence', async () => {
    const outcomes = async (): Promise<number[]> => {
      const fake = await setup({ seed: 99 });
      fake.faults.add({ action: 'DescribeVxnets', probability: 0.5, retCode: 5100 });
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await call(fake, 'DescribeVxnets')).ret_code);
      return codes;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(0);
    expect(first).toContain(5100);
  });

  it('remove() and list() with counters; bad rules name the field', async () => {
    const fake = await setup();
    const id = fake.faults.add({ action: 'DescribeVxnets', retCode: 5000, afterN: 1 });
    await call(fake, 'DescribeVxnets');
    await call(fake, 'DescribeVxnets');
    expect(fake.faults.list()).toEqual([{ rule: { id, action: 'DescribeVxnets', retCode: 5000, afterN: 1 }, matched: 2, applied: 1 }]);
    expect(fake.faults.remove(id)).toBe(true);
    expect(fake.faults.remove(id)).toBe(false);
    expect(() => fake.faults.add({ action: 'DescribeVxnets' })).toThrow(/needs at least one effect/);
    expect(() => fake.faults.add({ retCode: 'x' } as never)).toThrow('retCode: must be a number');
    expect(() => fake.faults.add({ drop: true, probabilty: 1 } as never)).toThrow('probabilty: is not a known field');
  });
});

describe('rate limits', () => {
  it('a token bucket per access key answers 2500 when empty and refills on the clock', async () => {
    const fake = await setup();
    fake.setRateLimit({ per: 'accessKey', ratePerSecond: 1, burst: 2 });
    const codes = async (n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call(fake, i % 2 ? 'DescribeNics' : 'DescribeVxnets')).ret_code);
      return out;
    };
    expect(await codes(3)).toEqual([0, 0, 2500]);
    expect(fake.requests().at(-1)?.rateLimited).toMatch(/^rate-/);
    await fake.clock.advance(1000);
    expect(await codes(2)).toEqual([0, 2500]);
  });

  it('per action with a chosen code, from the options', async () => {
    const fake = await setup({ rateLimits: [{ per: 'action', action: 'DescribeVxnets', ratePerSecond: 0, burst: 1, retCode: 5100 }] });
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(5100);
    expect((await call(fake, 'DescribeNics')).ret_code).toBe(0);
    fake.rateLimits.clear();
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
  });

  it('rate limits apply after authentication', async () => {
    const fake = await setup();
    fake.setRateLimit({ per: 'accessKey', ratePerSecond: 0, burst: 1 });
    expect((await call(fake, 'DescribeVxnets', {}, { secret: 'wrong' })).ret_code).toBe(1200);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
  });
});

describe('a built request can be replayed against a fault-free fake', () => {
  it('keeps the wire query stable', async () => {
    const fake = await setup();
    const { url } = buildRequest(fake, 'DescribeVxnets', { 'vxnets.1': VXNET });
    expect(url).toContain('&signature=');
    expect(((await (await fetch(url)).json()) as { total_count: number }).total_count).toBe(1);
  });
});
