/**
 * The whole controller under random faults in both fakes (busy and failing IaaS calls, failed jobs, slow
 * answers; 500s and 409s on API writes; dropped watches): reconciliation is delayed, and the state it
 * converges to is exactly the fault-free one — no second VIP set, rule, pool or block, no block in two
 * namespaces, right counts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseIpamConfig } from '@hostnic/ipam';
import type { IPPool } from '@hostnic/ipam';
import { putIpamConfig, putNamespace, putVxNetPool, seedVxnets, startHarness, until, VXNET } from '../harness.ts';
import type { Harness } from '../harness.ts';
import { startController } from '../../src/daemon/controller.ts';
import type { RunningController } from '../../src/daemon/controller.ts';

let h: Harness;
let controller: RunningController | undefined;
beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
});
afterEach(async () => {
  await controller?.stop();
  await h.close();
});

/** A seeded generator, so that a failing run can be repeated. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

it('converges to the fault-free state under random IaaS and API faults', { timeout: 180_000 }, async () => {
  const VXNET2 = 'vxnet-def5678';
  const sg = h.fake.addSecurityGroup({ security_group_id: 'sg-chaos' });
  h.kube.put('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'clusterconfig', namespace: 'kube-system' }, data: { 'qingcloud.yaml': `zone: pek3a\nsecurityGroup: ${sg.security_group_id}\n` } });
  putVxNetPool(h.kube, [VXNET, VXNET2], 27);
  putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: '{}' });
  for (const ns of ['team-a', 'team-b', 'team-c']) putNamespace(h.kube, ns);

  const iaasFaults = [
    h.fake.faults.add({ retCode: 5100, probability: 0.2 }),
    h.fake.faults.add({ httpStatus: 503, probability: 0.1 }),
    h.fake.faults.add({ latencyMs: [5, 40], probability: 0.3 }),
    h.fake.faults.add({ action: ['AllocateVips', 'ApplySecurityGroup'], job: 'fail', probability: 0.4 }),
  ];
  const random = lcg(20261127);
  const writes = new Set(['create', 'update', 'patch', 'delete']);
  const healApi500 = h.kube.faults.fail((info) => writes.has(info.verb ?? '') && info.resource !== 'leases' && random() < 0.15, 500);
  const healApi409 = h.kube.faults.conflictOn((info) => info.verb === 'update' && info.resource !== 'leases' && random() < 0.1);
  const dropper = setInterval(() => h.kube.endWatches(), 300);

  controller = await startController({
    kube: h.client,
    iaas: h.iaas,
    identity: 'chaos',
    lease: { durationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 },
    nicGcIntervalMs: 0,
    ipamGcIntervalMs: 3_600_000,
    cooldownMs: 0,
    pendingResyncMs: 30,
    resyncMs: 500,
    informerBackoff: { baseMs: 20, maxMs: 200 },
    jobTimeoutMs: 5_000,
  });
  // Let the faults bite until each kind has (however slow the machine), then heal and require convergence.
  const bitten = (): Record<string, boolean> => {
    const log = h.kube.requestLog();
    return {
      api500: log.some((e) => e.status === 500),
      api409: log.some((e) => e.status === 409),
      iaasFaults: h.fake.requests().filter((r) => r.fault !== null).length > 10,
      failedJob: h.fake.jobs().some((j) => j.status === 'failed'),
    };
  };
  await expect.poll(bitten, { timeout: 60_000, interval: 100 }).toEqual({ api500: true, api409: true, iaasFaults: true, failedJob: true });
  clearInterval(dropper);
  healApi500();
  healApi409();
  for (const id of iaasFaults) h.fake.faults.remove(id);

  await until('v-pool ready', () => (h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined)?.ready, 30_000);
  const mapped = async (): Promise<Map<string, readonly string[]>> => new Map(parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces);
  await until('7 namespaces mapped', async () => ((await mapped()).size === 7 ? true : undefined), 30_000);
  await until('pool status settled', () =>
    [VXNET, VXNET2].every((p) => (h.kube.get('ippools', p)?.['status'] as IPPool['status'] | undefined)?.reserved === 15) || undefined, 30_000);

  for (const id of [VXNET, VXNET2]) {
    const vips = h.fake.vips().filter((v) => v.vxnet_id === id);
    expect(vips).toHaveLength(241);
    expect(new Set(vips.map((v) => v.vip_addr)).size).toBe(241);
    expect(h.fake.securityGroupRules().filter((r) => r.security_group_id === sg.security_group_id && r.security_group_rule_name === `hostnic_${id}`)).toHaveLength(1);
  }
  expect((await h.store.listPools()).map((p) => p.object.metadata.name).sort()).toEqual([VXNET, VXNET2]);
  expect(await h.store.listBlocks()).toHaveLength(16);
  const all = [...(await mapped()).values()].flat();
  expect(new Set(all).size).toBe(all.length);
  expect(all).toHaveLength(7);
  const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { pools: { subnets?: string[] }[] };
  expect(status.pools.map((p) => p.subnets?.length)).toEqual([8, 8]);
});
