/**
 * Version skew during a DaemonSet rollout, end to end: the plugin bundle of the previous release (protocol 1,
 * kept as a fixture: test/skew/fixtures/README.md says how it was built) against the current agent, run
 * exactly as kubelet runs a plugin. ADD, CHECK and DEL work and the pod carries traffic. The other pairings
 * (current plugin against an agent answering version 1; two versions apart, code 11 "finish the rollout")
 * are tested at the plugin and protocol level with the real bundle (packages/cni-plugin/test/cli.test.ts).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, agentClusterFixture } from '../agent/harness.ts';

const isRoot = process.getuid?.() === 0;
const PLUGIN_V1 = fileURLToPath(new URL('./fixtures/hostnic-protocol-v1.cjs', import.meta.url));

describe.skipIf(!isRoot)('the previous release\'s plugin against the current agent (e2e)', () => {
  const c = agentClusterFixture('hs', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
  });

  it('ADD, CHECK and DEL of a protocol-1 plugin succeed, and the pod is reachable in between', async () => {
    const agent = c().agent('node-1');
    const { ref } = await c().createPod('node-1', 'default', 'skew-1');
    const add = await agent.plugin('ADD', ref, undefined, { bundle: PLUGIN_V1 });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const result = JSON.parse(add.stdout) as { ips?: { address: string }[] };
    const ip = result.ips?.[0]?.address.split('/')[0] ?? '';
    expect(ip).toMatch(/^172\.16\.3\./);
    expect(await c().sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);
    const check = await agent.plugin('CHECK', ref, result, { bundle: PLUGIN_V1 });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const del = await agent.plugin('DEL', ref, result, { bundle: PLUGIN_V1 });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(await c().sandbox.vpcPing(ip)).toBe(false);
    // The agent logged the request as version 1 (no header from the old plugin).
    expect(agent.child.output()).toMatch(/pod deleted/);
  });
});
