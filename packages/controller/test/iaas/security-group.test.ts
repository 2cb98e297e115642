import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from '../harness.ts';
import type { Harness } from '../harness.ts';
import { clusterSecurityGroup } from '../../src/iaas/security-group.ts';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('the cluster\'s security group', () => {
  it('is looked up from clusterID once per refresh period, also by callers arriving during the lookup', async () => {
    h.fake.addSecurityGroup({ security_group_id: 'sg-one' });
    h.fake.addCluster({ cluster_id: 'cl-one', security_group_id: 'sg-one' });
    let now = 0;
    const source = clusterSecurityGroup({ iaas: h.iaas, clusterId: 'cl-one', refreshMs: 60_000, now: () => now });
    expect(await Promise.all([source.current(), source.current(), source.current()])).toEqual(['sg-one', 'sg-one', 'sg-one']);
    expect(await source.current()).toBe('sg-one');
    expect(h.fake.requests({ action: 'DescribeClusters' })).toHaveLength(1);
    now = 60_000;
    expect(await source.current()).toBe('sg-one');
    expect(h.fake.requests({ action: 'DescribeClusters' })).toHaveLength(2);
  });

  it('does not keep a failed lookup, and falls back to the configured group for an unknown cluster', async () => {
    h.fake.faults.add({ action: 'DescribeClusters', retCode: 1100, times: 1 });
    const source = clusterSecurityGroup({ iaas: h.iaas, clusterId: 'cl-gone', securityGroup: 'sg-configured' });
    await expect(source.current()).rejects.toThrow();
    expect(await source.current()).toBe('sg-configured');
  });

  it('needs no lookup on clusters that are not QKE', async () => {
    expect(await clusterSecurityGroup({ iaas: h.iaas }).current()).toBeUndefined();
    expect(await clusterSecurityGroup({ iaas: h.iaas, securityGroup: 'sg-static' }).current()).toBe('sg-static');
    expect(h.fake.requests({ action: 'DescribeClusters' })).toHaveLength(0);
  });
});
