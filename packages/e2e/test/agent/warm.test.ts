/**
 * End to end, as root: the warm pool (agent.warmNicsPerVxnet 1). The agent attaches a NIC on the vxnet of
 * every enabled IPPool before any pod exists, and the first pod's ADD makes no IaaS NIC call at all (keeping
 * warm NICs while idle is tested on NicManager.releaseIdleNics, test/nics). With the NIC and the address claim
 * warm, an ADD and its DEL make no apiserver round trip, as the agent counts them in each operation.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, PODS2, agentClusterFixture, socketGet, until } from './harness.ts';
import type { PodRef } from './harness.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('the warm pool (e2e)', () => {
  const c = agentClusterFixture('hw', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1, PODS2],
    pools: [PODS1.id, PODS2.id],
    mapping: (blocksOf) => ({ Default: [PODS1.id], b: blocksOf(PODS2.id) }),
    agentConfig: { agent: { warmNicsPerVxnet: 1 } },
  });

  it('attaches one NIC per pool vxnet before any pod, and the first ADD is warm', async () => {
    const qc = c().sandbox.qingcloud;
    const node = c().sandbox.node('node-1');
    const attached = (): string[] => qc.nics().filter((n) => n.instance_id === node.instanceId && n.nic_name.startsWith('hostnic_')).map((n) => n.vxnet_id).sort();
    // Attached in the IaaS comes before ready in the agent: wait for the agent's own view of both pools.
    const warmPools = async (): Promise<string[]> => {
      const view = await socketGet(c().agent('node-1').socket, '/v1/pools');
      const list = (view?.body as { pools?: { name: string; warm: boolean; nicId: string | null }[] } | undefined)?.pools ?? [];
      return list.filter((p) => p.warm && p.nicId !== null).map((p) => p.name).sort();
    };
    await until('warm NICs ready on both vxnets', 30_000, async () =>
      (await warmPools()).length === 2 && c().agent('node-1').child.output().includes('warm NIC ready') ? true : undefined,
    );
    await expect.poll(attached, { timeout: 30_000, interval: 100 }).toEqual([PODS1.id, PODS2.id]);
    expect(c().agent('node-1').child.output()).toContain('warm NIC ready');

    const before = qc.requests().length;
    const { ref } = await c().createPod('node-1', 'b', 'first');
    const add = await c().agent('node-1').plugin('ADD', ref);
    expect(add.code, add.stderr).toBe(0);
    const nicCalls = qc.requests().slice(before).map((r) => r.action).filter((a) => a === 'CreateNics' || a === 'AttachNics');
    expect(nicCalls).toEqual([]);
    expect((JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.startsWith('172.16.4.')).toBe(true);
    // The node's view of the pools: both warm, with their NICs; the pod counted on its vxnet.
    const view = await socketGet(c().agent('node-1').socket, '/v1/pools');
    const pools = (view?.body as { pools: { name: string; nicId: string | null; warm: boolean; podsHere: number; allocated: number }[] }).pools;
    expect(pools.map((p) => [p.name, p.warm, p.nicId !== null, p.podsHere])).toEqual([
      [PODS1.id, true, true, 0],
      [PODS2.id, true, true, 1],
    ]);
    // The pool's cluster figure counts the pod's address and the rest of the node's warm address claim.
    expect(pools.find((p) => p.name === PODS2.id)?.allocated).toBeGreaterThanOrEqual(1);
    expect((await c().agent('node-1').plugin('DEL', ref)).code).toBe(0);
  });

  /** The apiserver requests the agent counted for one operation (its `pod added` / `pod deleted` log line). */
  const apiOf = (msg: string, ref: PodRef): unknown => {
    for (const line of c().agent('node-1').child.output().split('\n')) {
      if (!line.includes(`"msg":"${msg}"`) || !line.includes(ref.containerId)) continue;
      return (JSON.parse(line) as { api?: unknown }).api;
    }
    return undefined;
  };

  it('makes no apiserver round trip for a warm ADD and its DEL; a pod the node cache lacks is read', async () => {
    const agent = c().agent('node-1');
    // The first pod of the namespace warms what a pod of it needs; the second is the warm ADD.
    const { ref: first } = await c().createPod('node-1', 'default', 'warm-first');
    expect((await agent.plugin('ADD', first)).code).toBe(0);
    const { ref: warm } = await c().createPod('node-1', 'default', 'warm-second');
    const add = await agent.plugin('ADD', warm);
    expect(add.code, add.stderr).toBe(0);
    expect(apiOf('pod added', warm)).toEqual({ reads: 0, writes: 0 });
    expect((await agent.plugin('DEL', warm)).code).toBe(0);
    expect(apiOf('pod deleted', warm)).toEqual({ reads: 0, writes: 0 });

    // The count sees requests: a pod object the apiserver lacks is not in the node's pod cache, so ADD asks.
    const netns = await c().sandbox.podNetns('node-1', 'default-ghost');
    const ghost: PodRef = { namespace: 'default', name: 'ghost', containerId: randomBytes(16).toString('hex'), netnsPath: netns.path };
    expect((await agent.plugin('ADD', ghost)).code).toBe(0);
    expect(apiOf('pod added', ghost)).toEqual({ reads: 1, writes: 0 });
    for (const ref of [ghost, first]) expect((await agent.plugin('DEL', ref)).code).toBe(0);
  });
});
