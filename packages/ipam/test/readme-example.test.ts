import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Ipam, newIPPool, nodeOffset, podHandleId, podRangeOfVxnet } from '../src/index.ts';
import { LmdbIpamStore } from '../src/stores/lmdb/index.ts';

// The README's "without Kubernetes" example, kept runnable.
it('README example: the lmdb store without Kubernetes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-ipam-readme-'));
  try {
    const store = LmdbIpamStore.open(join(dir, 'ipam'));
    const ipam = new Ipam(store);

    const range = podRangeOfVxnet({
      vxnetId: 'vxnet-abc1234', ipNetwork: '172.16.3.0/24', managerIp: '172.16.3.1',
      dynIpStart: '172.16.3.2', dynIpEnd: '172.16.3.254', tunnelType: 'vxlan',
    });
    await ipam.ensurePool(newIPPool(range, 27));
    await store.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: ['vxnet-abc1234'] }) });

    const handleId = podHandleId('default', 'nginx', 'abc123').id;
    const request = { handleId, namespace: 'default', pod: 'nginx', node: 'node-1' };
    const a = await ipam.allocate(request);
    expect(a.pool).toBe('vxnet-abc1234');
    expect(a.gateway).toBe('172.16.3.1');
    expect(a.block).toBe(`4100-172-16-3-${nodeOffset('node-1', 8) * 32}-27`);
    expect(await ipam.allocate(request)).toEqual({ ...a, reused: true });
    expect((await ipam.release(handleId)).map((r) => r.address)).toEqual([a.address]);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
