import { describe, expect, it } from 'vitest';
import { MemoryClaimLedger, NodeClaim } from '@hostnic/ipam';
import { exampleStore, livePods, runIpam, T0 } from './helpers.ts';

/** The running example plus node-2's address claim, with one pod of node-2 published. */
async function claimedStore() {
  const rig = await exampleStore();
  const claim = await NodeClaim.open({ ipam: rig.ipam, ledger: new MemoryClaimLedger(), node: 'node-2', schedule: () => {}, warm: { minimum: 1, target: 3, maximum: 6 } });
  await claim.sync({ reconcile: true, now: T0 });
  const a = await claim.allocate({ handleId: 'default-api-abc', namespace: 'default', pod: 'api', node: 'node-2', now: T0 });
  await claim.sync({ now: T0 });
  return { ...rig, address: a.address };
}

describe('ipam check and show with node claims', () => {
  const pods = livePods('nginx', 'web', 'db', 'api');

  it('leaves the claim of a live node alone, its pods included', async () => {
    const { store } = await claimedStore();
    const run = await runIpam(['check'], { openStore: async () => store, listLivePods: async () => pods, listNodeNames: async () => ['node-1', 'node-2'] });
    expect(run.stdout).not.toContain('Address claims');
    expect(run.code).toBe(0);
  });

  it('reports and plans to release the whole claim of a node that is gone', async () => {
    const { store } = await claimedStore();
    const run = await runIpam(['check', '--show-plan'], { openStore: async () => store, listLivePods: async () => pods, listNodeNames: async () => ['node-1'] });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Address claims of nodes that are gone');
    expect(run.stdout).toContain('held by the address claim of node node-2, which is gone');
  });

  it('shows which pod uses a claimed address, as its node published it', async () => {
    const { store, address } = await claimedStore();
    const run = await runIpam(['show', '--ip', address], { openStore: async () => store });
    expect(run.stdout).toContain('default/api');
    expect(run.stdout).toContain('held by the address claim of node node-2, used by pod default/api');
  });
});
