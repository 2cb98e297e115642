import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeQingCloud, FakeStateSnapshot, RequestLogEntry } from '../../src/fake/index.ts';
import { call, controlJson, eventually, fakes, jobIdOf, ok, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

describe('control API', () => {
  it('seeds single objects and returns them with generated ids', async () => {
    const fake = await f.start();
    const vxnet = await controlJson(fake, 'POST', '/vxnets', { vxnet_name: 'pods', tunnel_type: 'vlan' });
    expect(vxnet.status).toBe(201);
    const vxnetId = (vxnet.json as { vxnet_id: string }).vxnet_id;
    expect(vxnetId).toMatch(/^vxnet-[a-z0-9]{7}$/);
    const instance = await controlJson(fake, 'POST', '/instances', { vxnet_id: vxnetId });
    expect(instance.json).toMatchObject({ instance_id: expect.stringMatching(/^i-[a-z0-9]{8}$/), status: 'running' });
    const sg = await controlJson(fake, 'POST', '/security-groups', { rules: [{ protocol: 'all', priority: 0, val3: '10.0.0.0/24' }] });
    expect(sg.json).toMatchObject({ security_group_id: expect.stringMatching(/^sg-/), rules: [expect.objectContaining({ protocol: 'all' })] });
    const cluster = await controlJson(fake, 'POST', '/clusters', { nodes: [{ host_machine: 'hm' }] });
    expect(cluster.json).toMatchObject({ cluster_id: expect.stringMatching(/^cl-[a-z0-9]{8}$/), nodes: [{ node_id: expect.stringMatching(/^cln-/) }] });
    const tag = await controlJson(fake, 'POST', '/tags', { tag_name: 't' });
    expect(tag.json).toMatchObject({ tag_id: expect.stringMatching(/^tag-[a-z0-9]{8}$/) });
    const key = await controlJson(fake, 'POST', '/access-keys', { accessKeyId: 'K2', secretAccessKey: 'S2' });
    expect(key.json).toMatchObject({ access_key_id: 'K2', owner: 'usr-example1', status: 'active' });
    const nic = await controlJson(fake, 'POST', '/nics', { vxnet_id: vxnetId });
    expect(nic.json).toMatchObject({ nic_id: expect.stringMatching(/^52:54(:[0-9a-f]{2}){4}$/) });
    expect((await controlJson(fake, 'GET', '/nics')).json).toHaveLength(2);
    expect(fake.vxnets().map((v) => v.vxnet_id)).toEqual([vxnetId]);
    const stopped = await controlJson(fake, 'POST', `/instances/${(instance.json as { instance_id: string }).instance_id}/status`, { status: 'stopped' });
    expect(stopped.json).toMatchObject({ status: 'stopped' });
    expect((await controlJson(fake, 'POST', '/quotas', { nics: 5 })).json).toMatchObject({ nics: 5 });
  });

  it('bad input is HTTP 400 with an error naming the field', async () => {
    const fake = await f.start();
    const cases: [string, unknown, string][] = [
      ['/vxnets', { router: { ip_network: 'nope' } }, 'router.ip_network'],
      ['/vxnets', { vxnetId: 'vxnet-x' }, 'vxnetId'],
      ['/vxnets', { vxnet_type: 7 }, 'vxnet_type'],
      ['/instances', { vxnet_id: 'vxnet-nothere' }, 'vxnet_id'],
      ['/nics', {}, 'vxnet_id'],
      ['/faults', { action: 'X' }, '(rule)'],
      ['/faults', { drop: 'yes' }, 'drop'],
      ['/clusters', { nodes: [{ private_ip: '1.2.3' }] }, 'nodes.0.private_ip'],
      ['/clock/advance', { ms: -1 }, 'ms'],
      ['/state', { nics: [{ vxnet_id: 'vxnet-a', status: 'gone' }] }, 'nics.0.status'],
    ];
    for (const [path, body, field] of cases) {
      const res = await controlJson(fake, 'POST', path, body);
      expect(res.status, path).toBe(400);
      expect(res.json, path).toMatchObject({ field, error: expect.stringContaining(field) });
    }
    const notJson = await fetch(`${fake.url}/__fake/vxnets`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await controlJson(fake, 'GET', '/nope')).status).toBe(404);
    expect((await controlJson(fake, 'DELETE', '/faults/fault-99')).status).toBe(404);
  });

  it('faults, clock, requests and reset over HTTP', async () => {
    const fake = await f.start({ jobDurations: { workMs: 1000 } });
    const vxnet = fake.addVxnet().vxnet_id;
    const instance = fake.addInstance({ vxnet_id: vxnet }).instance_id;
    const nic = fake.addNic({ vxnet_id: vxnet }).nic_id;

    const added = await controlJson(fake, 'POST', '/faults', { action: 'DescribeNics', retCode: 5100, message: 'ServerBusy, later' });
    expect(added).toEqual({ status: 201, json: { id: 'fault-1' } });
    expect((await call(fake, 'DescribeNics')).ret_code).toBe(5100);
    expect((await controlJson(fake, 'GET', '/faults')).json).toMatchObject([{ rule: { id: 'fault-1' }, matched: 1, applied: 1 }]);
    expect((await controlJson(fake, 'DELETE', '/faults/fault-1')).status).toBe(200);
    expect((await call(fake, 'DescribeNics')).ret_code).toBe(0);
    await controlJson(fake, 'POST', '/faults', { drop: true });
    expect((await controlJson(fake, 'DELETE', '/faults')).status).toBe(200);

    const job_id = jobIdOf(await ok(fake, 'AttachNics', { instance, 'nics.1': nic }));
    const advanced = await controlJson(fake, 'POST', '/clock/advance', { ms: 1000 });
    expect(advanced.json).toEqual({ now: '2013-08-27T14:30:11.000Z' });
    expect(set(await ok(fake, 'DescribeJobs', { 'jobs.1': job_id }), 'job_set')[0]?.['status']).toBe('successful');

    const unskewed = fake.clock.now();
    await controlJson(fake, 'POST', '/clock/skew', { ms: -3_600_000 });
    expect((await call(fake, 'DescribeNics', {}, { time: unskewed })).ret_code).toBe(1300);
    expect((await controlJson(fake, 'GET', '/clock')).json).toMatchObject({ skewMs: -3_600_000, mode: 'virtual' });
    await controlJson(fake, 'POST', '/clock/skew', { ms: 0 });

    const log = (await controlJson(fake, 'GET', '/requests?action=DescribeNics')).json as RequestLogEntry[];
    expect(log.map((e) => e.retCode)).toEqual([5100, 0, 1300]);
    expect(log[0]).toMatchObject({ method: 'GET', path: '/iaas', action: 'DescribeNics', auth: 'ok', fault: { ruleId: 'fault-1' } });

    expect((await controlJson(fake, 'POST', '/reset')).status).toBe(200);
    expect(fake.requests()).toEqual([]);
    expect(fake.nics()).toEqual([]);
    expect(fake.clock.now().toISOString()).toBe('2013-08-27T14:30:10.000Z');
    expect(fake.accessKeys().map((k) => k.access_key_id)).toEqual(['QYACCESSKEYIDEXAMPLE']);
  });

  it('GET /state and POST /state round-trip, including unfinished jobs', async () => {
    const fake = await f.start();
    const vxnet = fake.addVxnet().vxnet_id;
    const instance = fake.addInstance({ vxnet_id: vxnet }).instance_id;
    const nic = fake.addNic({ vxnet_id: vxnet }).nic_id;
    fake.addSecurityGroup({ rules: [{ protocol: 'tcp', priority: 1 }] });
    fake.addCluster({ nodes: [{}] });
    fake.addTag({ resource_tag_pairs: [{ resource_id: nic, resource_type: 'nic' }] });
    await ok(fake, 'AttachNics', { instance, 'nics.1': nic });
    const state = (await controlJson(fake, 'GET', '/state')).json as FakeStateSnapshot;
    expect(state.jobs[0]?.status).toBe('working');

    const other = await f.start();
    const posted = await controlJson(other, 'POST', '/state', state);
    expect(posted.json).toEqual(state);
    expect(posted.status).toBe(200);
    expect(other.getState()).toEqual(state);
    await other.clock.advance(2000);
    expect(other.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'in-use', instance_id: instance });

    // A rejected state leaves the old one in place.
    expect((await controlJson(other, 'POST', '/state', { vxnets: [{ vxnet_id: 'bad' }] })).status).toBe(400);
    expect(other.nics()).toHaveLength(2);
  });

  it('the same seed gives the same ids', async () => {
    const ids = async (): Promise<string[]> => {
      const fake = await f.start({ seed: 5 });
      const vxnet = fake.addVxnet().vxnet_id;
      const inst = fake.addInstance({ vxnet_id: vxnet });
      const created = await ok(fake, 'CreateNics', { vxnet, disable_ip: 1 });
      return [vxnet, inst.instance_id, inst.primary_nic_id, (created['nics'] as { nic_id: string }[])[0]?.nic_id ?? ''];
    };
    const first = await ids();
    expect(await ids()).toEqual(first);
  });
});

/** Reads NDJSON lines from a kept-open response. */
function openEvents(fake: FakeQingCloud, query = ''): Promise<{ lines: unknown[]; res: IncomingMessage; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${fake.url}/__fake/events${query}`, (res) => {
      const lines: unknown[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
      });
      res.on('error', () => undefined);
      resolve({ lines, res, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('host events over NDJSON', () => {
  it('streams nic-attached and nic-detached with the MAC, instance and vxnet', async () => {
    const fake = await f.start();
    const vxnet = fake.addVxnet().vxnet_id;
    const instance = fake.addInstance({ vxnet_id: vxnet }).instance_id;
    const nic = fake.addNic({ vxnet_id: vxnet }).nic_id;
    const stream = await openEvents(fake);
    expect(stream.res.headers['content-type']).toBe('application/x-ndjson');
    await ok(fake, 'AttachNics', { instance, 'nics.1': nic });
    await fake.clock.advance(2000);
    await ok(fake, 'DetachNics', { 'nics.1': nic });
    await fake.clock.advance(2000);
    await eventually(() => stream.lines.length === 2, 'two events');
    expect(stream.lines).toEqual([
      { event: 'nic-attached', nic_id: nic, instance_id: instance, vxnet_id: vxnet },
      { event: 'nic-detached', nic_id: nic, instance_id: instance, vxnet_id: vxnet },
    ]);
    const replay = await openEvents(fake, '?replay=1');
    await eventually(() => replay.lines.length === 2, 'replayed events');
    stream.close();
    replay.close();
  });

  it('the stream survives a refuse fault and is ended by close()', async () => {
    const fake = await f.start();
    const stream = await openEvents(fake);
    const ended = new Promise<void>((resolve) => stream.res.on('close', () => resolve()));
    fake.faults.add({ action: 'DescribeVxnets', refuseMs: 50, times: 1 });
    await call(fake, 'DescribeVxnets').catch(() => undefined);
    expect(stream.res.destroyed).toBe(false);
    await fake.close();
    await ended;
  });
});
