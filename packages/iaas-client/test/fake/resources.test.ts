import { afterEach, describe, expect, it } from 'vitest';
import { call, fakes, KEY, jobIdOf, ok, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

const VXNET = 'vxnet-res1234';
const ROUTER = { ip_network: '192.168.100.0/24', manager_ip: '192.168.100.1', dyn_ip_start: '192.168.100.2', dyn_ip_end: '192.168.100.254' };

describe('DescribeAccessKeys', () => {
  it('returns the owner of the caller’s keys, without secrets; unknown ids give an empty set', async () => {
    const fake = await f.start();
    fake.addAccessKey({ accessKeyId: 'SECONDKEY', secretAccessKey: 's2' });
    fake.addAccessKey({ accessKeyId: 'FOREIGNKEY', secretAccessKey: 's3', owner: 'usr-foreign1' });
    const body = await ok(fake, 'DescribeAccessKeys', { 'access_keys.1': KEY }, { zone: null });
    expect(set(body, 'access_key_set')).toEqual([
      { access_key_id: KEY, access_key_name: '', owner: 'usr-example1', status: 'active', create_time: '2013-08-27T14:30:10Z' },
    ]);
    expect((await ok(fake, 'DescribeAccessKeys', {}, { zone: null }))['total_count']).toBe(2);
    expect(set(await ok(fake, 'DescribeAccessKeys', { 'access_keys.1': 'FOREIGNKEY' }, { zone: null }), 'access_key_set')).toEqual([]);
  });
});

describe('DescribeVxnets', () => {
  it('emits router fields as strings (mode as a number), or router null', async () => {
    const fake = await f.start();
    const vxnet = fake.addVxnet({ vxnet_id: VXNET, vxnet_name: 'pods', tunnel_type: 'vlan', router: { ...ROUTER, router_id: 'rtr-abcdefgh' } });
    fake.addVxnet({ vxnet_id: 'vxnet-novpc12', router: null });
    const body = await ok(fake, 'DescribeVxnets', { 'vxnets.1': VXNET, 'vxnets.2': 'vxnet-novpc12', 'vxnets.3': 'vxnet-missing' });
    expect(body['total_count']).toBe(2);
    expect(set(body, 'vxnet_set')).toEqual([
      {
        vxnet_id: VXNET,
        vxnet_name: 'pods',
        vxnet_type: 1,
        vpc_router_id: 'rtr-abcdefgh',
        router: { router_id: 'rtr-abcdefgh', router_name: '', ...ROUTER, mode: 0 },
        tunnel_type: 'vlan',
        description: '',
        owner: 'usr-example1',
        create_time: vxnet.create_time,
      },
      expect.objectContaining({ vxnet_id: 'vxnet-novpc12', router: null, vpc_router_id: '' }),
    ]);
  });

  it('hides vxnet_type 2 unless asked for it', async () => {
    const fake = await f.start();
    fake.addVxnet({ vxnet_id: 'vxnet-basic12', vxnet_type: 2, router: null });
    fake.addVxnet({ vxnet_id: 'vxnet-self123', vxnet_type: 0 });
    const ids = (body: Awaited<ReturnType<typeof ok>>): string[] => set<{ vxnet_id: string }>(body, 'vxnet_set').map((v) => v.vxnet_id);
    expect(ids(await ok(fake, 'DescribeVxnets', { 'vxnets.1': 'vxnet-basic12', 'vxnets.2': 'vxnet-self123' }))).toEqual(['vxnet-self123']);
    expect(ids(await ok(fake, 'DescribeVxnets', { 'vxnets.1': 'vxnet-basic12', vxnet_type: 2 }))).toEqual(['vxnet-basic12']);
    expect(ids(await ok(fake, 'DescribeVxnets', { search_word: 'SELF' }))).toEqual(['vxnet-self123']);
  });

  it('generates 7-character vxnet ids and distinct default networks', async () => {
    const fake = await f.start();
    const a = fake.addVxnet();
    const b = fake.addVxnet();
    expect(a.vxnet_id).toMatch(/^vxnet-[a-z0-9]{7}$/);
    expect(a.router).toMatchObject({ ip_network: '172.16.0.0/24', manager_ip: '172.16.0.1', dyn_ip_start: '172.16.0.2', dyn_ip_end: '172.16.0.254' });
    expect(b.router?.ip_network).toBe('172.16.1.0/24');
  });
});

describe('VIPs', () => {
  it('AllocateVips skips owned addresses and shows VIPs only when the job succeeds', async () => {
    const fake = await f.start();
    fake.addVxnet({ vxnet_id: VXNET, router: ROUTER });
    fake.addNic({ vxnet_id: VXNET, private_ip: '192.168.100.3' });
    const body = await ok(fake, 'AllocateVips', { vxnet_id: VXNET, vip_name: `hostnic_${VXNET}`, vip_range: '192.168.100.2-192.168.100.5', count: 3 });
    expect(body['job_id']).toMatch(/^j-/);
    expect(body['vips']).toHaveLength(3);
    const describe = (): Promise<Awaited<ReturnType<typeof ok>>> =>
      ok(fake, 'DescribeVips', { 'vxnets.1': VXNET, vip_name: `hostnic_${VXNET}`, limit: 253 });
    expect(set(await describe(), 'vip_set')).toEqual([]);
    // Reserved for the pending job already: CreateNics cannot take them.
    expect(((await ok(fake, 'CreateNics', { vxnet: VXNET }))['nics'] as { private_ip: string }[])[0]?.private_ip).toBe('192.168.100.6');
    await fake.clock.advance(2000);
    const vips = set<{ vip_addr: string; vip_id: string }>(await describe(), 'vip_set');
    expect(vips.map((v) => v.vip_addr)).toEqual(['192.168.100.2', '192.168.100.4', '192.168.100.5']);
    expect(vips[0]).toMatchObject({ vip_name: `hostnic_${VXNET}`, vxnet_id: VXNET, nic_id: '', instance_id: '' });

    const release = await ok(fake, 'ReleaseVips', { 'vips.1': vips[0]?.vip_id ?? '' });
    expect(set(await describe(), 'vip_set')).toHaveLength(3);
    expect((await call(fake, 'ReleaseVips', { 'vips.1': vips[0]?.vip_id ?? '' })).ret_code).toBe(1400);
    await fake.clock.advance(2000);
    expect(set(await describe(), 'vip_set')).toHaveLength(2);
    expect(fake.jobs().find((j) => j.job_id === release['job_id'])?.status).toBe('successful');
  });

  it('validates vxnet, range and count; a failed allocation gives the addresses back', async () => {
    const fake = await f.start();
    fake.addVxnet({ vxnet_id: VXNET, router: ROUTER });
    expect((await call(fake, 'AllocateVips', { vxnet_id: 'vxnet-nothere' })).ret_code).toBe(2100);
    expect((await call(fake, 'AllocateVips', { vxnet_id: VXNET, vip_range: '10.0.0.1-10.0.0.9' })).ret_code).toBe(1100);
    expect((await call(fake, 'AllocateVips', { vxnet_id: VXNET, vip_range: '192.168.100.9-192.168.100.2' })).ret_code).toBe(1100);
    expect((await call(fake, 'AllocateVips', { vxnet_id: VXNET, vip_range: '192.168.100.2-192.168.100.3', count: 3 })).ret_code).toBe(1100);
    fake.setQuota({ vips: 1 });
    expect((await call(fake, 'AllocateVips', { vxnet_id: VXNET, vip_range: '192.168.100.2-192.168.100.3', count: 2 })).ret_code).toBe(2500);
    fake.setQuota({ vips: 100 });
    fake.faults.add({ action: 'AllocateVips', job: 'fail', times: 1 });
    await ok(fake, 'AllocateVips', { vxnet_id: VXNET, vip_range: '192.168.100.2-192.168.100.3', count: 2 });
    expect(fake.vips()).toHaveLength(2);
    await fake.clock.advance(2000);
    expect(fake.vips()).toHaveLength(0);
    expect((await call(fake, 'DescribeVips', {})).ret_code).toBe(1100);
    expect((await call(fake, 'ReleaseVips', { 'vips.1': 'vip-nothere0' })).ret_code).toBe(2100);
  });

  it('vipsVisibleImmediately shows them at once', async () => {
    const fake = await f.start({ vipsVisibleImmediately: true });
    fake.addVxnet({ vxnet_id: VXNET, router: ROUTER });
    await ok(fake, 'AllocateVips', { vxnet_id: VXNET, vip_name: 'x', vip_range: '192.168.100.10-192.168.100.11', count: 2 });
    expect(set(await ok(fake, 'DescribeVips', { 'vxnets.1': VXNET }), 'vip_set')).toHaveLength(2);
  });
});

describe('security groups', () => {
  const hostnicRule = {
    'rules.1.security_group_rule_name': `hostnic_${VXNET}`,
    'rules.1.action': 'accept',
    'rules.1.direction': 0,
    'rules.1.priority': 0,
    'rules.1.protocol': 'all',
    'rules.1.val3': '192.168.100.0/24',
  };

  it('adds, applies (job), finds ordered by priority then creation, deletes', async () => {
    const fake = await f.start();
    const sg = fake.addSecurityGroup({ rules: [{ protocol: 'tcp', priority: 5, val1: '22' }, { protocol: 'udp', priority: 0, direction: 1 }] });
    const added = await ok(fake, 'AddSecurityGroupRules', { security_group: sg.security_group_id, ...hostnicRule });
    const [ruleId] = added['security_group_rules'] as string[];
    expect(ruleId).toMatch(/^sgr-[a-z0-9]{8}$/);
    expect(fake.securityGroups()[0]?.is_applied).toBe(0);
    const job_id = jobIdOf(await ok(fake, 'ApplySecurityGroup', { security_group: sg.security_group_id }));
    await fake.clock.advance(2000);
    expect(fake.jobs().find((j) => j.job_id === job_id)?.job_action).toBe('ApplySecurityGroup');
    expect(fake.securityGroups()[0]?.is_applied).toBe(1);

    const rules = set<Record<string, unknown>>(await ok(fake, 'DescribeSecurityGroupRules', { security_group: sg.security_group_id, direction: 0 }), 'security_group_rule_set');
    expect(rules.map((r) => r['priority'])).toEqual([0, 5]);
    expect(rules[0]).toEqual({
      security_group_rule_id: ruleId,
      security_group_rule_name: `hostnic_${VXNET}`,
      security_group_id: sg.security_group_id,
      action: 'accept',
      direction: 0,
      priority: 0,
      protocol: 'all',
      val1: '',
      val2: '',
      val3: '192.168.100.0/24',
      disabled: 0,
    });
    expect(rules[1]).toMatchObject({ protocol: 'tcp', val1: '22', val3: '' });

    await ok(fake, 'DeleteSecurityGroupRules', { 'security_group_rules.1': ruleId ?? '' });
    expect(fake.securityGroupRules().map((r) => r.security_group_rule_id)).not.toContain(ruleId);
    expect((await call(fake, 'DeleteSecurityGroupRules', { 'security_group_rules.1': ruleId ?? '' })).ret_code).toBe(2100);
  });

  it('validates protocol, priority, action, direction; unknown group 2100; quota 2500', async () => {
    const fake = await f.start();
    const sg = fake.addSecurityGroup().security_group_id;
    const add = (rule: Record<string, string | number>): Promise<number> =>
      call(fake, 'AddSecurityGroupRules', { security_group: sg, ...rule }).then((b) => b.ret_code);
    expect(await add({ 'rules.1.priority': 0 })).toBe(1100);
    expect(await add({ 'rules.1.protocol': 'sctp', 'rules.1.priority': 0 })).toBe(1100);
    expect(await add({ 'rules.1.protocol': 'all' })).toBe(1100);
    expect(await add({ 'rules.1.protocol': 'all', 'rules.1.priority': 101 })).toBe(1100);
    expect(await add({ 'rules.1.protocol': 'all', 'rules.1.priority': 1, 'rules.1.action': 'reject' })).toBe(1100);
    expect(await add({ 'rules.1.protocol': 'all', 'rules.1.priority': 1, 'rules.1.direction': 2 })).toBe(1100);
    expect(await add({})).toBe(1100);
    for (const protocol of ['tcp', 'udp', 'icmp', 'gre', 'esp', 'ah', 'ipip', 'all']) {
      expect(await add({ 'rules.1.protocol': protocol, 'rules.1.priority': 100 })).toBe(0);
    }
    expect((await call(fake, 'AddSecurityGroupRules', { security_group: 'sg-nothere0', ...hostnicRule })).ret_code).toBe(2100);
    expect((await call(fake, 'ApplySecurityGroup', { security_group: 'sg-nothere0' })).ret_code).toBe(2100);
    fake.setQuota({ security_group_rules: 8 });
    expect(await add({ 'rules.1.protocol': 'all', 'rules.1.priority': 1 })).toBe(2500);
  });
});

describe('tags', () => {
  it('AttachTags is idempotent and shows up on the NIC; unknown tag or resource is 2100', async () => {
    const fake = await f.start();
    fake.addVxnet({ vxnet_id: VXNET });
    const nic = fake.addNic({ vxnet_id: VXNET }).nic_id;
    const tag = fake.addTag({ tag_name: 'k8s' });
    const pair = { 'resource_tag_pairs.1.tag_id': tag.tag_id, 'resource_tag_pairs.1.resource_type': 'nic', 'resource_tag_pairs.1.resource_id': nic };
    await ok(fake, 'AttachTags', pair);
    await ok(fake, 'AttachTags', pair);
    expect(fake.tags()[0]?.resource_tag_pairs).toEqual([{ resource_id: nic, resource_type: 'nic' }]);
    const [described] = set<{ tags: unknown[] }>(await ok(fake, 'DescribeNics', { 'nics.1': nic }), 'nic_set');
    expect(described?.tags).toEqual([{ tag_id: tag.tag_id, tag_name: 'k8s', color: tag.color }]);
    expect((await call(fake, 'AttachTags', { ...pair, 'resource_tag_pairs.1.tag_id': 'tag-nothere0' })).ret_code).toBe(2100);
    expect((await call(fake, 'AttachTags', { ...pair, 'resource_tag_pairs.1.resource_id': '52:54:00:00:00:09' })).ret_code).toBe(2100);
    expect((await call(fake, 'AttachTags', { ...pair, 'resource_tag_pairs.1.resource_type': 'volume' })).ret_code).toBe(1100);
  });
});

describe('clusters', () => {
  it('DescribeClusters and DescribeClusterNodes', async () => {
    const fake = await f.start();
    const sg = fake.addSecurityGroup().security_group_id;
    const cluster = fake.addCluster({
      security_group_id: sg,
      nodes: [
        { instance_id: 'i-node0001', host_machine: 'hm-a', private_ip: '192.168.0.10' },
        { instance_id: 'i-node0002', host_machine: 'hm-b', private_ip: '192.168.0.11' },
      ],
    });
    fake.addCluster();
    const clusters = await ok(fake, 'DescribeClusters', { 'clusters.1': cluster.cluster_id, 'clusters.2': 'cl-nothere0' });
    expect(set(clusters, 'cluster_set')).toEqual([expect.objectContaining({ cluster_id: cluster.cluster_id, security_group_id: sg, status: 'active' })]);
    const nodes = set<Record<string, unknown>>(await ok(fake, 'DescribeClusterNodes', { cluster: cluster.cluster_id }), 'node_set');
    expect(nodes).toHaveLength(2);
    expect(nodes[0]).toEqual({
      node_id: expect.stringMatching(/^cln-[a-z0-9]{8}$/),
      name: '',
      cluster_id: cluster.cluster_id,
      instance_id: 'i-node0001',
      host_machine: 'hm-a',
      private_ip: '192.168.0.10',
      status: 'active',
    });
  });
});
