/**
 * `hostnic-controller vips clear`: against the fake QingCloud and an in-memory IPAM, refused while the vxnet
 * is in use (saying why), a dry run that releases nothing, then the release of only the vxnet's hostnic VIPs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientFor, startFakeQingCloud } from '@hostnic/iaas-client/fake';
import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import type { IaasClient } from '@hostnic/iaas-client';
import { vipsClearPlan, vipsCommand } from '../../src/cli/vips.ts';
import type { VipsCliDeps } from '../../src/cli/vips.ts';
import { BLOCK0, POOL, exampleStore, handleOf, runningPool } from './helpers.ts';
import type { Run } from './helpers.ts';

async function runVips(args: readonly string[], deps: Partial<VipsCliDeps>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const command = vipsCommand({
    ...deps,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    setExitCode: (c) => {
      code = c;
    },
  });
  await command.parseAsync([...args], { from: 'user' });
  return { code, stdout, stderr };
}

describe('vipsClearPlan', () => {
  const vip = (vipId: string, vxnetId = POOL) => ({ vipId, vipName: `hostnic_${vxnetId}`, vipAddr: '172.16.3.2', vxnetId, nicId: undefined, instanceId: undefined, createTime: undefined });

  it('releases the vxnet\'s VIPs when it has no pool in service and no allocated address', () => {
    expect(vipsClearPlan({ vxnetId: POOL, pool: undefined, blocks: [], vips: [vip('vip-1'), vip('vip-2', 'vxnet-other')] })).toEqual({ release: [vip('vip-1')] });
    const disabled = { ...runningPool(), spec: { ...runningPool().spec, disabled: true } };
    expect(vipsClearPlan({ vxnetId: POOL, pool: disabled, blocks: [], vips: [vip('vip-1')] })).toEqual({ release: [vip('vip-1')] });
  });
});

describe('hostnic-controller vips clear', () => {
  let fake: FakeQingCloud;
  let client: IaasClient;

  beforeEach(async () => {
    fake = await startFakeQingCloud({ clock: 'realtime', jobDurations: { pendingMs: 0, workMs: 5 }, seed: 3 });
    fake.addVxnet({
      vxnet_id: POOL,
      tunnel_type: 'vxlan',
      router: { router_id: 'rtr-1', manager_ip: '172.16.3.1', ip_network: '172.16.3.0/24', dyn_ip_start: '172.16.3.2', dyn_ip_end: '172.16.3.254' },
    });
    client = clientFor(fake);
    for (const [name, range] of [[`hostnic_${POOL}`, '172.16.3.2-172.16.3.5'], ['somebody-else', '172.16.3.250-172.16.3.250']] as const) {
      const job = await client.allocateVips({ vxnetId: POOL, vipName: name, vipRange: range, count: range === '172.16.3.2-172.16.3.5' ? 4 : 1 });
      if (job.jobId !== undefined) await client.waitJob(job.jobId);
    }
  });

  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  const ours = (): string[] => fake.vips().filter((v) => v.vip_name === `hostnic_${POOL}`).map((v) => v.vip_addr).sort();

  it('refuses while the pool is in service and its block holds addresses, then dry-runs and releases only ours', async () => {
    const { store, ipam } = await exampleStore();
    const deps = { openStore: async () => store, openIaas: async () => clientFor(fake) };
    const refused = await runVips(['clear', '--vxnet', POOL], deps);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`not releasing the 4 VIP(s) of ${POOL}:`);
    expect(refused.stderr).toContain(`IPPool ${POOL} is in service: remove ${POOL} from spec.vxnets of VxNetPool v-pool first`);
    expect(refused.stderr).toContain(`block ${BLOCK0} (172.16.3.0/27) has 3 address(es) allocated`);
    expect(ours()).toHaveLength(4);

    for (const pod of ['nginx', 'web', 'db']) await ipam.release(handleOf(pod));
    await store.deletePool(POOL);
    const dry = await runVips(['clear', '--vxnet', POOL, '--dry-run'], deps);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('  vip-'))).toHaveLength(4);
    expect(fake.requests({ action: 'ReleaseVips' })).toEqual([]);

    const done = await runVips(['clear', '--vxnet', POOL], deps);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^releasing 4 VIP\\(s\\) of ${POOL} \\(ReleaseVips job`));
    const job = /job (j-[^)]+)\)/.exec(done.stdout)?.[1];
    if (job !== undefined) await client.waitJob(job);
    expect(ours()).toEqual([]);
    expect(fake.vips().map((v) => v.vip_name)).toEqual(['somebody-else']);

    const again = await runVips(['clear', '--vxnet', POOL], deps);
    expect(again).toMatchObject({ code: 0, stdout: `${POOL} has no VIPs named hostnic_${POOL}: nothing to release\n` });
  });

  it('a malformed vxnet id is an error that names the flag', async () => {
    const r = await runVips(['clear', '--vxnet', 'abc'], { openStore: async () => { throw new Error('not reached'); } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--vxnet "abc" is not a vxnet id');
  });
});
