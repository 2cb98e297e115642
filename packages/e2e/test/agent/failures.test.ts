/**
 * End to end, as root: an ADD through the bundled plugin that fails at a step leaves nothing behind: no IPAM
 * handle, no agent record, no pod link, no rule 1535, no ARP answer, and for a failed NIC step no NIC in
 * the fake QingCloud. Faults come from the fake kube-apiserver (IPAM store), the fake QingCloud (CreateNics,
 * the AttachNics job) and a pod netns that is gone (wiring). Repeated ADD and DEL are idempotent.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { MGMT, PODS1, PODS2, agentClusterFixture, nodeLeftovers, socketGet, until } from './harness.ts';
import type { AgentCluster, RunResult } from './harness.ts';

const isRoot = process.getuid?.() === 0;

async function expectNothingLeftOn(cluster: AgentCluster, why: string): Promise<void> {
  expect(await cluster.handlesWhen(0), `${why}: IPAM handles`).toEqual([]);
  const pods = await socketGet(cluster.agent('node-1').socket, '/v1/pods');
  expect(pods?.status, `${why}: /v1/pods`).toBe(200);
  expect((pods?.body as { pods?: unknown[] } | undefined)?.pods, `${why}: agent records`).toEqual([]);
  expect(await nodeLeftovers(cluster.sandbox, 'node-1'), why).toEqual({ links: [], rules: [], arp: [] });
}

function failed(r: RunResult): { code?: number; msg?: string } {
  return JSON.parse(r.stdout || '{}') as { code?: number; msg?: string };
}

describe.skipIf(!isRoot)('a failed ADD leaves nothing behind (e2e)', () => {
  const undo: (() => void)[] = [];
  let seq = 0;
  // Namespace `b` is the only user of vxnet-pods002, so its first ADD needs a new NIC.
  const c = agentClusterFixture('hf', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1, PODS2],
    pools: [PODS1.id, PODS2.id],
    mapping: (blocksOf) => ({ Default: [PODS1.id], b: blocksOf(PODS2.id) }),
  });

  afterEach(() => {
    for (const u of undo.splice(0)) u();
    c().sandbox.qingcloud.faults.clear();
  });

  const expectNothingLeft = (why: string): Promise<void> => expectNothingLeftOn(c(), why);

  async function addOnce(namespace: string, removeNetns = false): Promise<RunResult> {
    const { ref, netns } = await c().createPod('node-1', namespace, `f${++seq}`);
    if (removeNetns) await netns.remove();
    return c().agent('node-1').plugin('ADD', ref);
  }

  it('IPAM failure (the apiserver refuses IPAM blocks): a warm ADD and its DEL do not notice; an ADD that needs the apiserver answers an error and allocates nothing', async () => {
    const lift = c().kube.faults.fail({ verb: '*', resource: 'ipamblocks' }, 403);
    undo.push(lift);
    // Namespace `a` (Default) is served from the node's address claim, filled before the agent was ready.
    const { ref } = await c().createPod('node-1', 'a', `f${++seq}`);
    const warm = await c().agent('node-1').plugin('ADD', ref);
    expect(warm.code, warm.stdout).toBe(0);
    const del = await c().agent('node-1').plugin('DEL', ref);
    expect(del.code, del.stdout).toBe(0);
    // Namespace `b` has no claimed address yet: its ADD must write blocks.
    const add = await addOnce('b');
    expect(add.code, add.stdout).not.toBe(0);
    expect(failed(add).code, add.stdout).toBe(100);
    // Lifted so that the check can read the blocks (the removal is idempotent; afterEach runs it again).
    lift();
    await expectNothingLeft('ipam');
  }, 40_000);

  it('NIC failure (CreateNics refused) answers 101 and leaks no NIC', async () => {
    c().sandbox.qingcloud.faults.add({ action: 'CreateNics', retCode: 1400, message: 'injected' });
    const add = await addOnce('b');
    expect(add.code, add.stdout).not.toBe(0);
    expect(failed(add).code, add.stdout).toBe(101);
    await expectNothingLeft('CreateNics');
    expect(c().sandbox.qingcloud.nics().filter((n) => n.vxnet_id === PODS2.id)).toEqual([]);
  }, 40_000);

  it('NIC failure (the AttachNics job fails) answers an error and leaks no NIC', async () => {
    c().sandbox.qingcloud.faults.add({ action: 'AttachNics', job: 'fail' });
    const add = await addOnce('b');
    expect(add.code, add.stdout).not.toBe(0);
    expect(failed(add).code, add.stdout).toBe(101);
    await expectNothingLeft('AttachNics');
    const nics = c().sandbox.qingcloud.nics().filter((n) => n.vxnet_id === PODS2.id);
    expect(nics.filter((n) => n.instance_id !== ''), 'attached NICs').toEqual([]);
    // Deleting the unattached NIC after a failed attach is the agent's job; none may stay behind.
    expect(nics, 'NICs left in the fake').toEqual([]);
  }, 40_000);

  it('a pod netns gone before the ADD is refused by the plugin and leaves nothing', async () => {
    const add = await addOnce('a', true);
    expect(add.code, add.stdout).not.toBe(0);
    await expectNothingLeft('netns gone before ADD');
  }, 40_000);

  it('repeated ADD answers the same IP and one handle; repeated DEL succeeds and leaves nothing', async () => {
    const { ref } = await c().createPod('node-1', 'a', `f${++seq}`);
    const agent = c().agent('node-1');
    const first = await agent.plugin('ADD', ref);
    expect(first.code, `${first.stdout}\n${first.stderr}\n${agent.child.output()}`).toBe(0);
    const second = await agent.plugin('ADD', ref);
    expect(second.code, second.stdout).toBe(0);
    const ipOf = (r: RunResult) => (JSON.parse(r.stdout) as { ips?: { address: string }[] }).ips?.[0]?.address;
    expect(ipOf(second)).toBe(ipOf(first));
    expect(await c().handlesWhen(1)).toHaveLength(1);
    expect((await nodeLeftovers(c().sandbox, 'node-1')).rules.length).toBe(1);
    for (let i = 0; i < 2; i++) {
      const del = await agent.plugin('DEL', ref);
      expect(del.code, del.stdout).toBe(0);
    }
    await expectNothingLeft('repeated DEL');
  }, 40_000);
});

describe.skipIf(!isRoot)('a wiring failure leaves nothing behind (e2e)', () => {
  // No node claim here, so the ADD writes its block and the test can hold it there.
  const w = agentClusterFixture('hw', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
    agentConfig: { agent: { warmIpTarget: 0 } },
  });

  it('the pod netns goes away after the IP is allocated: answers 102 and leaves nothing', async () => {
    // The block write of the allocation is held and the netns removed while it waits: after the plugin's own
    // check, before the wiring.
    const hold = w().kube.faults.hold({ verb: 'update', resource: 'ipamblocks' });
    try {
      const { ref, netns } = await w().createPod('node-1', 'a', 'wired');
      const adding = w().agent('node-1').plugin('ADD', ref);
      await until('the ADD holds at its block write', 30_000, async () => (hold.held() > 0 ? true : undefined));
      await netns.remove();
      hold.release();
      const add = await adding;
      expect(add.code, add.stdout).not.toBe(0);
      expect(failed(add).code, add.stdout).toBe(102);
      await expectNothingLeftOn(w(), 'wiring');
    } finally {
      hold.release();
    }
  }, 40_000);
});
