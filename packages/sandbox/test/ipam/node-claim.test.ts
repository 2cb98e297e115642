import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam, MemoryClaimLedger, newIPPool, NodeClaim, podRangeOfVxnet } from '@hostnic/ipam';
import { mapping, startKubeRig, type KubeRig } from './helpers.ts';

let rig: KubeRig;
beforeEach(async () => {
  rig = await startKubeRig();
});
afterEach(async () => {
  await rig.close();
});

const WRITE_VERBS = ['create', 'update', 'delete', 'patch'];
function requests(): { reads: number; writes: number } {
  const log = rig.server.requestLog();
  const writes = log.filter((r) => WRITE_VERBS.includes(r.verb ?? '')).length;
  return { reads: log.length - writes, writes };
}

async function claimOnCrds(warm = { minimum: 4, target: 16, maximum: 32 }) {
  const range = podRangeOfVxnet({
    vxnetId: 'vxnet-abc1234', ipNetwork: '172.16.3.0/24', managerIp: '172.16.3.1',
    dynIpStart: '172.16.3.2', dynIpEnd: '172.16.3.254', tunnelType: 'vxlan',
  });
  const store = rig.store();
  const ipam = new Ipam(store, { cooldownMs: 60_000 });
  await ipam.ensurePool(newIPPool(range, 26));
  await store.setIpamConfig(mapping({ Default: ['vxnet-abc1234'] }));
  const claim = await NodeClaim.open({ ipam, ledger: new MemoryClaimLedger(), node: 'node-1', warm, schedule: () => {} });
  await claim.sync({ reconcile: true });
  return { ipam, claim };
}

describe('a node claim on the CRDs of the fake kube-apiserver', () => {
  it('makes 0 API requests (reads or writes) on a warm ADD and on a DEL', async () => {
    const { claim } = await claimOnCrds();
    rig.server.clearRequestLog();
    const a = await claim.allocate({ handleId: 'default-nginx-abc', namespace: 'default', pod: 'nginx', node: 'node-1' });
    expect(requests()).toEqual({ reads: 0, writes: 0 });
    expect(await claim.release('default-nginx-abc')).toEqual([{ address: a.address }]);
    expect(requests()).toEqual({ reads: 0, writes: 0 });
  });

  it('writes at most once per allocation over 100 ADDs, and the cluster sees every pod', async () => {
    const { claim, ipam } = await claimOnCrds();
    rig.server.clearRequestLog();
    for (let i = 0; i < 100; i++) {
      await claim.allocate({ handleId: `default-p${i}-abc`, namespace: 'default', pod: `p${i}`, node: 'node-1' });
      // The background sync, as the agent's timer runs it between bursts of ADDs.
      if (i % 10 === 9) await claim.sync();
    }
    await claim.sync();
    const { writes } = requests();
    expect(writes).toBeLessThanOrEqual(100);
    const published = (await ipam.claimOf('node-1')).filter((c) => c.assignment !== undefined);
    expect(published.map((c) => c.assignment?.pod).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `p${i}`).sort());
  });
});
