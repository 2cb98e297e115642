/**
 * End to end, as root: a pod whose Pod object is deleted without a CNI DEL (kubelet lost it) is released by
 * the agent after its grace period (2 s in the test configuration): the ARP entry, host rule and IPAM handle
 * go, and the agent no longer lists it. A pod that still exists keeps everything.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, agentClusterFixture, nodeLeftovers, socketGet, until } from './harness.ts';
import type { PodRef } from './harness.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('pods gone without a DEL (e2e)', () => {
  const c = agentClusterFixture('hg', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
  });

  it('releases the attachment of a deleted pod after the grace period, and only that one', async () => {
    const added: PodRef[] = [];
    for (const name of ['kept', 'lost']) {
      const { ref } = await c().createPod('node-1', 'apps', name);
      const add = await c().agent('node-1').plugin('ADD', ref);
      expect(add.code, add.stderr).toBe(0);
      added.push(ref);
    }
    expect(await c().handlesWhen(2)).toHaveLength(2);
    expect((await nodeLeftovers(c().sandbox, 'node-1')).arp.length).toBe(2);

    await c().kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: 'apps', name: 'lost' });
    const agent = c().agent('node-1');
    // The release touches the agent's records, the IPAM handles and the node's kernel state, in that order or
    // another: wait until every one of them shows it, not only the first.
    await until('the lost pod released', 30_000, async () => {
      const pods = await socketGet(agent.socket, '/v1/pods');
      const list = (pods?.body as { pods?: { podName: string }[] } | undefined)?.pods ?? [];
      const kernel = await nodeLeftovers(c().sandbox, 'node-1');
      const released = list.length === 1 && (await c().handles()).length === 1 && kernel.arp.length === 1 && kernel.rules.length === 1;
      return released && agent.child.output().includes('released the attachment of a pod that is gone') ? true : undefined;
    });
    const handles = await c().handlesWhen(1);
    expect(handles).toHaveLength(1);
    expect(handles[0]).toMatch(/^apps-kept-/);
    const left = await nodeLeftovers(c().sandbox, 'node-1');
    expect(left.arp).toHaveLength(1);
    expect(left.rules).toHaveLength(1);
    expect(agent.child.output()).toContain('released the attachment of a pod that is gone');

    // The remaining pod's DEL still works.
    const kept = added[0];
    if (kept === undefined) throw new Error('no pod');
    expect((await agent.plugin('DEL', kept)).code).toBe(0);
    expect(await c().handlesWhen(0)).toEqual([]);
  });
});
