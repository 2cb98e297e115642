import { afterEach, describe, expect, it } from 'vitest';
import type { FakeQingCloud } from '../../src/fake/index.ts';
import { call, fakes, jobIdOf, ok, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

const VXNET = 'vxnet-abc1234';
const MAC = /^52:54(:[0-9a-f]{2}){4}$/;

async function setup(options: Parameters<typeof f.start>[0] = {}): Promise<{ fake: FakeQingCloud; instance: string; primary: string }> {
  const fake = await f.start(options);
  fake.addVxnet({
    vxnet_id: VXNET,
    router: { ip_network: '192.168.100.0/24', manager_ip: '192.168.100.1', dyn_ip_start: '192.168.100.2', dyn_ip_end: '192.168.100.254' },
  });
  const inst = fake.addInstance({ vxnet_id: VXNET });
  return { fake, instance: inst.instance_id, primary: inst.primary_nic_id };
}

async function createNic(fake: FakeQingCloud, params: Record<string, string | number> = {}): Promise<string> {
  const body = await ok(fake, 'CreateNics', { vxnet: VXNET, disable_ip: 1, ...params });
  const nics = body['nics'] as { nic_id: string }[];
  return nics[0]?.nic_id ?? '';
}

async function attached(fake: FakeQingCloud, instance: string, nic: string): Promise<string> {
  const job_id = jobIdOf(await ok(fake, 'AttachNics', { instance, 'nics.1': nic }));
  await fake.clock.advance(2000);
  return job_id;
}

describe('CreateNics', () => {
  it('creates available NICs with MAC ids, synchronously', async () => {
    const { fake } = await setup();
    const body = await ok(fake, 'CreateNics', { vxnet: VXNET, count: 3, nic_name: 'hostnic_i-x', disable_ip: 1 });
    expect(body['action']).toBe('CreateNicsResponse');
    const nics = body['nics'] as { nic_id: string; private_ip: string | null }[];
    expect(nics).toHaveLength(3);
    for (const nic of nics) {
      expect(nic.nic_id).toMatch(MAC);
      expect(nic.private_ip).toBeNull();
    }
    const described = set(await ok(fake, 'DescribeNics', { nic_name: 'hostnic_i-x' }), 'nic_set');
    expect(described).toHaveLength(3);
    expect(described[0]).toEqual({
      nic_id: nics[0]?.nic_id,
      nic_name: 'hostnic_i-x',
      vxnet_id: VXNET,
      private_ip: null,
      status: 'available',
      instance_id: '',
      role: 0,
      sequence: 0,
      security_group: '',
      tags: [],
      owner: 'usr-example1',
      create_time: '2013-08-27T14:30:10Z',
      status_time: '2013-08-27T14:30:10Z',
    });
  });

  it('takes the lowest free DHCP address unless disable_ip=1 (the primary NIC sits at the top)', async () => {
    const { fake } = await setup();
    const body = await ok(fake, 'CreateNics', { vxnet: VXNET, count: 2 });
    expect((body['nics'] as { private_ip: string }[]).map((n) => n.private_ip)).toEqual(['192.168.100.2', '192.168.100.3']);
    expect(fake.instances()[0]?.private_ip).toBe('192.168.100.254');
  });

  it('honours private_ips: inside the network, free, count matching', async () => {
    const { fake } = await setup();
    const body = await ok(fake, 'CreateNics', { vxnet: VXNET, count: 2, 'private_ips.1': '192.168.100.50', 'private_ips.2': '192.168.100.51' });
    expect((body['nics'] as { private_ip: string }[]).map((n) => n.private_ip)).toEqual(['192.168.100.50', '192.168.100.51']);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, 'private_ips.1': '192.168.100.50' })).ret_code).toBe(1400);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, 'private_ips.1': '10.0.0.5' })).ret_code).toBe(1100);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, count: 2, 'private_ips.1': '192.168.100.60' })).ret_code).toBe(1100);
  });

  it('count must be 1..252', async () => {
    const { fake } = await setup();
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, count: 0 })).ret_code).toBe(1100);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, count: 253, disable_ip: 1 })).ret_code).toBe(1100);
    expect((await call(fake, 'CreateNics', { vxnet: VXNET, count: 252, disable_ip: 1 })).ret_code).toBe(0);
  });

  it('an unknown vxnet is 2100 ResourceNotFound; the nic quota is 2500; an exhausted range is 2500', async () => {
    const { fake } = await setup();
    const missing = await call(fake, 'CreateNics', { vxnet: 'vxnet-nothere' });
    expect(missing).toEqual({ ret_code: 2100, message: 'ResourceNotFound, resource [vxnet-nothere] not found' });
    fake.setQuota({ nics: 2 });
    const quota = await call(fake, 'CreateNics', { vxnet: VXNET, count: 3, disable_ip: 1 });
    expect(quota.ret_code).toBe(2500);
    expect(quota.message).toMatch(/^QuotaExceeded, /);
    fake.setQuota({ nics: 1000 });
    fake.addVxnet({ vxnet_id: 'vxnet-tiny123', router: { ip_network: '10.9.9.0/29', dyn_ip_start: '10.9.9.2', dyn_ip_end: '10.9.9.3' } });
    expect((await call(fake, 'CreateNics', { vxnet: 'vxnet-tiny123', count: 3 })).ret_code).toBe(2500);
    expect(fake.nics().filter((n) => n.vxnet_id === 'vxnet-tiny123')).toHaveLength(0);
  });
});

describe('DescribeNics', () => {
  it('filters AND-ed; unknown ids are silently skipped', async () => {
    const { fake, instance, primary } = await setup();
    const a = await createNic(fake, { nic_name: 'a' });
    await createNic(fake, { nic_name: 'b' });
    await attached(fake, instance, a);
    const byInstance = set<{ nic_id: string }>(await ok(fake, 'DescribeNics', { 'instances.1': instance }), 'nic_set');
    expect(byInstance.map((n) => n.nic_id).sort()).toEqual([a, primary].sort());
    const inUseA = await ok(fake, 'DescribeNics', { 'instances.1': instance, status: 'in-use', nic_name: 'a' });
    expect(set<{ nic_id: string; sequence: number }>(inUseA, 'nic_set')).toEqual([expect.objectContaining({ nic_id: a, sequence: 1 })]);
    const skipped = await ok(fake, 'DescribeNics', { 'nics.1': a, 'nics.2': '52:54:00:00:00:00' });
    expect(set(skipped, 'nic_set')).toHaveLength(1);
    expect(set(await ok(fake, 'DescribeNics', { 'vxnet_type.1': 2 }), 'nic_set')).toHaveLength(0);
    expect(set(await ok(fake, 'DescribeNics', { 'vxnet_type.1': 1, status: 'available' }), 'nic_set')).toHaveLength(1);
  });

  it('limit=253 gives at most 100 items and total_count of all', async () => {
    const { fake } = await setup();
    for (let i = 0; i < 130; i++) fake.addNic({ vxnet_id: VXNET, nic_name: 'bulk' });
    const body = await ok(fake, 'DescribeNics', { nic_name: 'bulk', limit: 253, offset: 0 });
    expect(set(body, 'nic_set')).toHaveLength(100);
    expect(body['total_count']).toBe(130);
    const rest = await ok(fake, 'DescribeNics', { nic_name: 'bulk', limit: 253, offset: 100 });
    expect(set(rest, 'nic_set')).toHaveLength(30);
    expect(set(await ok(fake, 'DescribeNics', { nic_name: 'bulk' }), 'nic_set')).toHaveLength(20);
    expect((await call(fake, 'DescribeNics', { offset: -1 })).ret_code).toBe(1100);
  });

  it('maxLimit is configurable', async () => {
    const { fake } = await setup({ maxLimit: 500 });
    for (let i = 0; i < 130; i++) fake.addNic({ vxnet_id: VXNET, nic_name: 'bulk' });
    expect(set(await ok(fake, 'DescribeNics', { nic_name: 'bulk', limit: 253 }), 'nic_set')).toHaveLength(130);
  });
});

describe('AttachNics', () => {
  it('creates a locked job and attaches on job success only', async () => {
    const { fake, instance } = await setup();
    const nic = await createNic(fake);
    const body = await ok(fake, 'AttachNics', { instance, 'nics.1': nic });
    expect(body['job_id']).toMatch(/^j-[a-z0-9]{8}$/);
    expect(fake.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'available', lock: body['job_id'] });
    await fake.clock.advance(1999);
    expect(fake.nics().find((n) => n.nic_id === nic)?.status).toBe('available');
    await fake.clock.advance(1);
    expect(fake.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'in-use', instance_id: instance, lock: null, sequence: 1 });
  });

  it('a missing instance or NIC is 2100 naming it; a stopped instance 1400', async () => {
    const { fake, instance } = await setup();
    const nic = await createNic(fake);
    expect((await call(fake, 'AttachNics', { instance: 'i-nothere0', 'nics.1': nic })).ret_code).toBe(2100);
    const missing = await call(fake, 'AttachNics', { instance, 'nics.1': '52:54:de:ad:be:ef' });
    expect(missing).toEqual({ ret_code: 2100, message: 'ResourceNotFound, resource [52:54:de:ad:be:ef] not found' });
    const stopped = fake.addInstance({ vxnet_id: VXNET, status: 'stopped' }).instance_id;
    const refused = await call(fake, 'AttachNics', { instance: stopped, 'nics.1': nic });
    expect(refused.ret_code).toBe(1400);
    expect(refused.message).toMatch(/^PermissionDenied, instance \[i-[a-z0-9]{8}\] is not running/);
    expect((await call(fake, 'AttachNics', { instance })).ret_code).toBe(1100);
  });

  it('a NIC that is locked by a running job, or already in use, is 1400', async () => {
    const { fake, instance, primary } = await setup();
    const nic = await createNic(fake);
    await ok(fake, 'AttachNics', { instance, 'nics.1': nic });
    const locked = await call(fake, 'AttachNics', { instance, 'nics.1': nic });
    expect(locked.ret_code).toBe(1400);
    expect(locked.message).toMatch(/being operated by job/);
    expect((await call(fake, 'DeleteNics', { 'nics.1': nic })).ret_code).toBe(1400);
    await fake.clock.advance(2000);
    expect((await call(fake, 'AttachNics', { instance, 'nics.1': nic })).ret_code).toBe(1400);
    expect((await call(fake, 'AttachNics', { instance, 'nics.1': primary })).ret_code).toBe(1400);
  });

  it('the per-instance NIC limit (running attach jobs included) is 2500', async () => {
    const { fake } = await setup();
    const small = fake.addInstance({ vxnet_id: VXNET, max_nics: 3 }).instance_id;
    const [a, b, c] = [await createNic(fake), await createNic(fake), await createNic(fake)];
    await ok(fake, 'AttachNics', { instance: small, 'nics.1': a ?? '', 'nics.2': b ?? '' });
    const over = await call(fake, 'AttachNics', { instance: small, 'nics.1': c ?? '' });
    expect(over.ret_code).toBe(2500);
    expect(over.message).toMatch(/^QuotaExceeded, /);
  });

  it('optional rule: one NIC per vxnet per instance', async () => {
    const { fake, instance } = await setup({ oneNicPerVxnetPerInstance: true });
    const nic = await createNic(fake);
    // The primary NIC already sits in this vxnet.
    expect((await call(fake, 'AttachNics', { instance, 'nics.1': nic })).ret_code).toBe(1400);
  });
});

describe('DetachNics and DeleteNics', () => {
  it('detaches on job success; the primary NIC is 1400; an available NIC is 1400', async () => {
    const { fake, instance, primary } = await setup();
    const nic = await createNic(fake);
    expect((await call(fake, 'DetachNics', { 'nics.1': nic })).ret_code).toBe(1400);
    await attached(fake, instance, nic);
    const primaryRefused = await call(fake, 'DetachNics', { 'nics.1': primary });
    expect(primaryRefused.ret_code).toBe(1400);
    expect(primaryRefused.message).toMatch(/primary/);
    const job_id = jobIdOf(await ok(fake, 'DetachNics', { 'nics.1': nic }));
    expect(fake.jobs().find((j) => j.job_id === job_id)).toMatchObject({
      job_action: 'DetachNics',
      directive: JSON.stringify({ nics: [nic], instance }),
      resource_ids: `${nic} ${instance}`,
    });
    await fake.clock.advance(2000);
    expect(fake.nics().find((n) => n.nic_id === nic)).toMatchObject({ status: 'available', instance_id: '', lock: null });
    expect((await call(fake, 'DetachNics', { 'nics.1': '52:54:00:11:22:33' })).ret_code).toBe(2100);
  });

  it('DeleteNics in use is 1400, unknown is 2100 ResourceNotFound', async () => {
    const { fake, instance } = await setup();
    const nic = await createNic(fake);
    await attached(fake, instance, nic);
    const inUse = await call(fake, 'DeleteNics', { 'nics.1': nic });
    expect(inUse.ret_code).toBe(1400);
    expect(inUse.message).toMatch(/^PermissionDenied, /);
    const unknown = await call(fake, 'DeleteNics', { 'nics.1': '52:54:00:00:00:01' });
    expect(unknown.ret_code).toBe(2100);
    expect(unknown.message).toContain('ResourceNotFound');
  });

  it('deletes available NICs atomically and frees their address', async () => {
    const { fake } = await setup();
    const body = await ok(fake, 'CreateNics', { vxnet: VXNET });
    const [{ nic_id: nic, private_ip: ip }] = body['nics'] as { nic_id: string; private_ip: string }[] as [{ nic_id: string; private_ip: string }];
    expect((await call(fake, 'DeleteNics', { 'nics.1': nic, 'nics.2': '52:54:00:00:00:02' })).ret_code).toBe(2100);
    expect(fake.nics().some((n) => n.nic_id === nic)).toBe(true);
    await ok(fake, 'DeleteNics', { 'nics.1': nic });
    expect(fake.nics().some((n) => n.nic_id === nic)).toBe(false);
    const again = await ok(fake, 'CreateNics', { vxnet: VXNET });
    expect((again['nics'] as { private_ip: string }[])[0]?.private_ip).toBe(ip);
  });
});
