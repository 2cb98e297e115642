import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ipam, MemoryIpamStore, newIPPool, podRangeOfVxnet, StoreCallCounter } from '@hostnic/ipam';
import { silentLogger } from '@hostnic/runtime';
import { openIpamClaim } from '../../src/daemon/ipam-claim.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const stateDir = await mkdtemp(join(tmpdir(), 'hostnic-agent-claim-'));
  dirs.push(stateDir);
  const store = new MemoryIpamStore();
  const counter = new StoreCallCounter();
  const ipam = new Ipam(store, { onWrite: counter.onWrite, onRead: counter.onRead });
  const range = podRangeOfVxnet({ vxnetId: 'vxnet-aaa1111', ipNetwork: '10.1.0.0/24', managerIp: '10.1.0.1', dynIpStart: '10.1.0.2', dynIpEnd: '10.1.0.254', tunnelType: 'vxlan' });
  await ipam.ensurePool(newIPPool(range, 26));
  await store.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: ['vxnet-aaa1111'] }) });
  return { stateDir, ipam, counter };
}

const AGENT = { warmIpTarget: 4, warmIpMinimum: 2, warmIpMaximum: 8 };

describe('the agent\'s ipam claim', () => {
  it('is off with warmIpTarget 0', async () => {
    const { stateDir, ipam } = await setup();
    expect(await openIpamClaim({ ipam, stateDir, node: 'node-1', agent: { ...AGENT, warmIpTarget: 0 }, log: silentLogger })).toBeUndefined();
  });

  it('keeps a pod\'s address across a restart of the agent in its lmdb ledger, with no API call for ADD or DEL', async () => {
    const { stateDir, ipam, counter } = await setup();
    const first = await openIpamClaim({ ipam, stateDir, node: 'node-1', agent: AGENT, log: silentLogger });
    if (first === undefined) throw new Error('no claim');
    await first.claim.sync({ reconcile: true });
    counter.reset();
    const a = await first.claim.allocate({ handleId: 'default-web-abc', namespace: 'default', pod: 'web', node: 'node-1' });
    expect({ reads: counter.reads(), writes: counter.writes() }).toEqual({ reads: 0, writes: 0 });
    await first.close();

    const second = await openIpamClaim({ ipam, stateDir, node: 'node-1', agent: AGENT, log: silentLogger });
    if (second === undefined) throw new Error('no claim');
    await second.claim.sync({ reconcile: true });
    counter.reset();
    expect(await second.claim.release('default-web-abc')).toEqual([{ address: a.address }]);
    expect({ reads: counter.reads(), writes: counter.writes() }).toEqual({ reads: 0, writes: 0 });
    await second.close();
  });
});
