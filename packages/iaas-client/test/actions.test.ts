import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../src/fake/index.ts';
import { IaasError, IaasInputError, JobFailedError, isNotFound } from '../src/index.ts';
import { ACCESS_KEY, actionsLogged, startHarness, type Harness } from './helpers.ts';

let h: Harness;
let instanceId: string;
const VXNET = 'vxnet-abc1234';

beforeEach(async () => {
  h = await startHarness();
  h.fake.addVxnet({
    vxnet_id: VXNET,
    tunnel_type: 'vxlan',
    router: { manager_ip: '172.16.3.1', ip_network: '172.16.3.0/24', dyn_ip_start: '172.16.3.2', dyn_ip_end: '172.16.3.254' },
  });
  h.fake.addVxnet({ vxnet_id: 'vxnet-basic01', vxnet_type: 2, router: null });
  instanceId = h.fake.addInstance({ vxnet_id: VXNET }).instance_id;
});
afterEach(async () => {
  await h.close();
});

describe('identity', () => {
  it('whoAmI returns the owner of the configured key', async () => {
    const owner = await h.client.whoAmI();
    expect(owner).toMatch(/^usr-/);
    expect(h.fake.requests({ action: 'DescribeAccessKeys' })[0]?.params['access_keys.1']).toBe(ACCESS_KEY);
  });

  it('a wrong secret is a 1200 authentication failure, not retried', async () => {
    const bad = h.newClient({}, { qy_secret_access_key: 'wrong' });
    const err = await bad.whoAmI().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IaasError);
    expect((err as IaasError).retCode).toBe(1200);
    expect(actionsLogged(h.fake, 'DescribeAccessKeys')).toBe(1);
  });

  it('an unknown access key is a 1200 too', async () => {
    const bad = h.newClient({}, { qy_access_key_id: 'NOSUCHKEY' });
    await expect(bad.whoAmI()).rejects.toMatchObject({ retCode: 1200 });
  });

  it('a client clock two minutes behind gets 1300 (message expired)', async () => {
    const skewed = h.newClient({
      clock: { now: () => new Date(Date.now() - 120_000), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    });
    await expect(skewed.whoAmI()).rejects.toMatchObject({ retCode: 1300 });
  });
});

describe('vxnets', () => {
  it('describeVxnetsByIds re-asks missing ids with vxnet_type=2, only for those', async () => {
    const found = await h.client.describeVxnetsByIds([VXNET, 'vxnet-basic01', 'vxnet-nothere']);
    expect([...found.keys()].sort()).toEqual(['vxnet-abc1234', 'vxnet-basic01']);
    expect(found.get(VXNET)?.router).toMatchObject({ ipNetwork: '172.16.3.0/24', managerIp: '172.16.3.1', dynIpEnd: '172.16.3.254' });
    expect(found.get(VXNET)?.tunnelType).toBe('vxlan');
    expect(found.get('vxnet-basic01')?.router).toBeNull();
    const calls = h.fake.requests({ action: 'DescribeVxnets' });
    expect(calls).toHaveLength(2);
    expect(calls[1]?.params).toMatchObject({ vxnet_type: '2', 'vxnets.1': 'vxnet-basic01', 'vxnets.2': 'vxnet-nothere' });
    expect(calls[1]?.params['vxnets.3']).toBeUndefined();
  });
});

describe('NIC lifecycle', () => {
  it('create, attach (job + host hook), describe, detach, delete', async () => {
    const events: HostEvent[] = [];
    h.fake.onHostEvent((e) => {
      events.push(e);
    });
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: `hostnic_${instanceId}`, disableIp: true });
    expect(nic?.nicId).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
    expect(nic?.privateIp).toBeNull();
    const created = h.fake.requests({ action: 'CreateNics' })[0]?.params;
    expect(created).toMatchObject({ vxnet: VXNET, count: '1', disable_ip: '1', nic_name: `hostnic_${instanceId}` });

    const nicId = nic!.nicId;
    const attach = await h.client.attachNics({ nics: [nicId], instance: instanceId });
    expect(attach.jobId).toMatch(/^j-/);
    const outcome = await h.client.waitJob(attach.jobId!, { initialIntervalMs: 10 });
    expect(outcome.job).toMatchObject({ status: 'successful', jobAction: 'AttachNics' });
    expect(events).toContainEqual({ event: 'nic-attached', nicId, instanceId, vxnetId: VXNET });

    const attached = await h.client.describeNics({ instances: [instanceId], status: 'in-use', nicName: `hostnic_${instanceId}` });
    expect(attached.map((n) => n.nicId)).toEqual([nicId]);
    expect(attached[0]).toMatchObject({ role: 0, status: 'in-use', instanceId, vxnetId: VXNET });

    const detach = await h.client.detachNics([nicId]);
    await h.client.waitJob(detach.jobId!, { initialIntervalMs: 10 });
    expect(events.at(-1)).toEqual({ event: 'nic-detached', nicId, instanceId, vxnetId: VXNET });
    expect((await h.client.describeNics({ nics: [nicId] }))[0]).toMatchObject({ status: 'available', instanceId: '' });

    await h.client.deleteNics([nicId]);
    expect(await h.client.describeNics({ nics: [nicId] })).toEqual([]);
    const gone = await h.client.deleteNics([nicId]).catch((e: unknown) => e);
    expect(isNotFound(gone)).toBe(true);
  });

  it('deleting an attached NIC is refused (1400) and not retried', async () => {
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: 'n' });
    const { jobId } = await h.client.attachNics({ nics: [nic!.nicId], instance: instanceId });
    await h.client.waitJob(jobId!, { initialIntervalMs: 10 });
    await expect(h.client.deleteNics([nic!.nicId])).rejects.toMatchObject({ retCode: 1400 });
    expect(actionsLogged(h.fake, 'DeleteNics')).toBe(1);
  });

  it('a failed attach job rejects waitJob with JobFailedError and leaves the NIC available', async () => {
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: 'n' });
    h.fake.faults.add({ action: 'AttachNics', job: 'fail' });
    const { jobId } = await h.client.attachNics({ nics: [nic!.nicId], instance: instanceId });
    await expect(h.client.waitJob(jobId!, { initialIntervalMs: 10 })).rejects.toBeInstanceOf(JobFailedError);
    expect((await h.client.describeNics({ nics: [nic!.nicId] }))[0]?.status).toBe('available');
  });

  it('tags a NIC', async () => {
    const tagId = h.fake.addTag({ tag_name: 'k8s-cluster' }).tag_id;
    const [nic] = await h.client.createNics({ vxnet: VXNET, nicName: 'n' });
    await h.client.attachTags([{ tagId, resourceId: nic!.nicId, resourceType: 'nic' }]);
    expect(h.fake.requests({ action: 'AttachTags' })[0]?.params).toMatchObject({
      'resource_tag_pairs.1.tag_id': tagId,
      'resource_tag_pairs.1.resource_id': nic!.nicId,
      'resource_tag_pairs.1.resource_type': 'nic',
    });
  });

  it('bad input is refused before any request, naming the field', async () => {
    await expect(h.client.createNics({ vxnet: VXNET, count: 0 })).rejects.toThrow(IaasInputError);
    await expect(h.client.createNics({ vxnet: VXNET, count: 0 })).rejects.toThrow('CreateNics: count must be an integer from 1 to 252');
    await expect(h.client.attachNics({ nics: [], instance: instanceId })).rejects.toThrow('AttachNics: nics must name at least one id');
    await expect(h.client.createNics({ vxnet: ' ' })).rejects.toThrow('CreateNics: vxnet is required');
    expect(actionsLogged(h.fake, 'CreateNics') + actionsLogged(h.fake, 'AttachNics')).toBe(0);
  });
});

describe('paging', () => {
  it('lists every page up to total_count, and honours maxItems', async () => {
    for (let i = 0; i < 230; i++) h.fake.addNic({ vxnet_id: VXNET, nic_name: 'bulk' });
    const all = await h.client.describeNics({ nicName: 'bulk' });
    expect(all).toHaveLength(230);
    expect(new Set(all.map((n) => n.nicId)).size).toBe(230);
    const pages = h.fake.requests({ action: 'DescribeNics' });
    expect(pages.map((p) => [p.params['offset'], p.params['limit']])).toEqual([
      ['0', '100'],
      ['100', '100'],
      ['200', '100'],
    ]);
    expect(await h.client.describeNics({ nicName: 'bulk' }, { maxItems: 120 })).toHaveLength(120);
  });
});

describe('VIPs', () => {
  it('allocate a range, see it after the job, release it', async () => {
    const { jobId } = await h.client.allocateVips({
      vxnetId: VXNET,
      vipName: `hostnic_${VXNET}`,
      vipRange: '172.16.3.2-172.16.3.242',
      count: 241,
    });
    await h.client.waitJob(jobId!, { initialIntervalMs: 10 });
    const vips = await h.client.describeVips({ vxnets: [VXNET], vipName: `hostnic_${VXNET}` });
    expect(vips).toHaveLength(241);
    expect(vips.map((v) => v.vipAddr)).toContain('172.16.3.242');
    const release = await h.client.releaseVips({ vips: vips.map((v) => v.vipId), vxnetId: VXNET });
    await h.client.waitJob(release.jobId!, { initialIntervalMs: 10 });
    expect(await h.client.describeVips({ vxnets: [VXNET], vipName: `hostnic_${VXNET}` })).toEqual([]);
  });
});

describe('security groups and clusters', () => {
  it('add, apply, find and delete the hostnic rule of a QKE cluster', async () => {
    const sg = h.fake.addSecurityGroup({ security_group_name: 'qke' }).security_group_id;
    const clusterId = h.fake.addCluster({
      security_group_id: sg,
      nodes: [{ instance_id: instanceId, host_machine: 'hm-1', private_ip: '172.16.3.10', status: 'active' }],
    }).cluster_id;

    const [cluster] = await h.client.describeClusters([clusterId]);
    expect(cluster).toMatchObject({ clusterId, securityGroupId: sg });
    const nodes = await h.client.describeClusterNodes(clusterId);
    expect(nodes[0]).toMatchObject({ instanceId, hostMachine: 'hm-1', privateIp: '172.16.3.10', clusterId });

    const ids = await h.client.addSecurityGroupRules({
      securityGroup: sg,
      rules: [
        { securityGroupRuleName: `hostnic_${VXNET}`, action: 'accept', direction: 0, priority: 0, protocol: 'all', val3: '172.16.3.0/24' },
      ],
    });
    expect(ids).toHaveLength(1);
    expect(h.fake.requests({ action: 'AddSecurityGroupRules' })[0]?.params).toMatchObject({
      'rules.1.security_group_rule_name': `hostnic_${VXNET}`,
      'rules.1.protocol': 'all',
      'rules.1.val3': '172.16.3.0/24',
      'rules.1.priority': '0',
      'rules.1.direction': '0',
      'rules.1.action': 'accept',
    });
    const { jobId } = await h.client.applySecurityGroup(sg);
    await h.client.waitJob(jobId!, { initialIntervalMs: 10 });
    const rules = await h.client.describeSecurityGroupRules({ securityGroup: sg, direction: 0 });
    const mine = rules.find((r) => r.val3 === '172.16.3.0/24' && r.action === 'accept' && r.protocol === 'all');
    expect(mine?.securityGroupRuleId).toBe(ids[0]);
    await h.client.deleteSecurityGroupRules(ids);
    expect(await h.client.describeSecurityGroupRules({ securityGroup: sg })).not.toContainEqual(
      expect.objectContaining({ securityGroupRuleId: ids[0] }),
    );
  });

  it('a rule without a protocol or with priority 101 is refused before sending', async () => {
    await expect(
      h.client.addSecurityGroupRules({ securityGroup: 'sg-1', rules: [{ protocol: 'all', priority: 101 }] }),
    ).rejects.toThrow('rules[0].priority must be an integer from 0 to 100');
  });

  it('describeAccessKeys', async () => {
    const keys = await h.client.describeAccessKeys([ACCESS_KEY]);
    expect(keys[0]).toMatchObject({ accessKeyId: ACCESS_KEY });
  });
});
