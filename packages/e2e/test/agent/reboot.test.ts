/**
 * A node reboot, as root, with the real agent: while the agent is down (SIGKILLed) the node namespace loses
 * what a reboot takes with it (the pods' veths and their netns, rules 1535, ARP replies, the NICs' route
 * tables and bridges) and the boot id changes. Started again, the agent converges: the runtime's DEL of a dead
 * pod succeeds, the record and IPAM handle of the pod no runtime DELs are released after the grace, the NIC's
 * bridge and table are set up again, and the next ADD has traffic. Afterwards nothing is left.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, agentClusterFixture, nodeLeftovers, until } from './harness.ts';
import type { AgentCluster, RunResult } from './harness.ts';
import { datastoreView, expectNothingLeft } from './leaks.ts';

const isRoot = process.getuid?.() === 0;
const NODE = 'node-1';

function ipOf(add: RunResult): string {
  return (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
}

/** What a reboot takes from the node namespace (the NIC links stay: the devices are still attached). */
async function rebootKernelState(c: AgentCluster, tables: readonly number[]): Promise<void> {
  const sh = async (argv: string[]): Promise<void> => {
    const r = await c.sandbox.exec(NODE, argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  for (const link of (await nodeLeftovers(c.sandbox, NODE)).links) await sh(['ip', 'link', 'del', link]);
  while ((await nodeLeftovers(c.sandbox, NODE)).rules.length > 0) await sh(['ip', 'rule', 'del', 'pref', '1535']);
  await sh(['ebtables', '-t', 'nat', '-F', 'PREROUTING']);
  for (const table of tables) {
    await sh(['ip', 'route', 'flush', 'table', String(table)]);
    await sh(['ip', 'link', 'del', `br_${table}`]);
  }
}

describe.skipIf(!isRoot)('a node reboot behind the agent\'s back (e2e)', () => {
  const c = agentClusterFixture('hr', {
    nodes: 1,
    agentsOn: [NODE],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
    // Long enough for the runtime's DEL of one dead pod to come first; the other is released by the agent.
    agentConfig: { agent: { orphanPodGraceSec: 8 } },
  });

  it('after the reboot the agent converges and the next ADD works', async () => {
    const agent = c().agent(NODE);
    const pods = [await c().createPod(NODE, 'default', 'before-a'), await c().createPod(NODE, 'default', 'before-b')];
    for (const p of pods) {
      const add = await agent.plugin('ADD', p.ref);
      expect(add.code, add.stderr).toBe(0);
      expect(await c().sandbox.vpcPing(ipOf(add), { attempts: 3 })).toBe(true);
    }
    const { tables } = await datastoreView(c(), NODE);
    expect(tables).toHaveLength(1);

    const old = agent.child;
    old.process.kill('SIGKILL');
    await old.exited;
    await rebootKernelState(c(), tables);
    for (const p of pods) await p.netns.remove();
    await writeFile(agent.bootIdFile, `${randomUUID()}\n`);
    expect(await nodeLeftovers(c().sandbox, NODE)).toEqual({ links: [], rules: [], arp: [] });

    await agent.restart();
    expect(agent.child.output()).toContain('the node rebooted since the last start');
    // Kept through the grace: the records are what the runtime's DEL needs.
    expect((await datastoreView(c(), NODE)).pods.map((p) => p.split(' ')[0]).sort()).toEqual(['default/before-a', 'default/before-b']);
    // The runtime DELs the dead sandbox of the first pod (its netns is gone): that succeeds.
    const del = await agent.plugin('DEL', pods[0]!.ref);
    expect(del.code, del.stderr).toBe(0);
    // No DEL comes for the second: after the grace, the agent releases its record, ARP reply and handle.
    await until('the pod of the previous boot to be released', 60_000, async () =>
      (await datastoreView(c(), NODE)).pods.length === 0 && (await c().handles()).length === 0 ? true : undefined,
    );
    // The NIC's bridge and table are back (the reconcile sets up what the reboot took).
    await until('the NIC table to be set up again', 60_000, async () => {
      const routes = (await c().sandbox.exec(NODE, ['ip', 'route', 'show', 'table', String(tables[0])])).stdout.trim();
      const bridge = await c().sandbox.exec(NODE, ['ip', 'link', 'show', `br_${tables[0]}`]);
      return routes !== '' && bridge.code === 0 ? true : undefined;
    });

    const after = await c().createPod(NODE, 'default', 'after');
    const add = await agent.plugin('ADD', after.ref);
    expect(add.code, `${add.stdout}\n${add.stderr}\n${agent.child.output()}`).toBe(0);
    expect(await c().sandbox.vpcPing(ipOf(add), { attempts: 3 }), 'vxnet gateway → the pod added after the reboot').toBe(true);
    expect((await c().agent(NODE).plugin('DEL', after.ref)).code).toBe(0);
    await expectNothingLeft(c(), [NODE], 'after the reboot');
    console.log(`reboot: dead pods released, table ${tables[0]} set up again, the next ADD has traffic, nothing left`);
  }, 240_000);
});
