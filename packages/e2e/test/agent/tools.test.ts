/**
 * End to end, as root: the operator's tools of the agent as processes against a running agent in a sandbox
 * node. `hostnic-agent check` finds the kernel objects of our shape that nothing owns (exit 3), `--fix`
 * removes them and leaves the pod whole; `hostnic-agent nics clear` frees the NIC its last pod left, the dry
 * run first. (The periodic sweep is slowed down so that it does not remove the orphans first.)
 */
import { describe, expect, it } from 'vitest';
import { AGENT_CLI, MGMT, PODS1, REPO, agentClusterFixture, nodeLeftovers, run } from './harness.ts';
import type { RunResult } from './harness.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('hostnic-agent check and nics clear (e2e)', () => {
  const c = agentClusterFixture('ht', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
    agentConfig: { pool: { sync: 600 } },
  });

  const cli = (...args: string[]): Promise<RunResult> =>
    run([process.execPath, '--conditions=@hostnic/source', AGENT_CLI, ...args, '--socket', c().agent('node-1').socket], process.env, '', REPO);

  it('check lists and --fix removes orphaned objects; nics clear frees the idle NIC after a dry run', async () => {
    const { ref } = await c().createPod('node-1', 'apps', 'web');
    const add = await c().agent('node-1').plugin('ADD', ref);
    expect(add.code, add.stderr).toBe(0);
    expect((await cli('check')).code).toBe(0);

    // Left behind by something that lost its records: a host veth of our shape and a NIC's rule and table.
    const sandbox = c().sandbox;
    await sandbox.exec('node-1', ['ip', 'link', 'add', 'vnic0000000e2e1', 'type', 'veth', 'peer', 'name', 'tools-peer']);
    await sandbox.exec('node-1', ['ip', 'rule', 'add', 'priority', '1536', 'from', '10.99.0.0/24', 'lookup', '299']);
    const found = await cli('check', '--json');
    expect(found.code, found.stderr).toBe(3);
    expect((JSON.parse(found.stdout) as { found: unknown[] }).found).toEqual([
      { kind: 'veth', key: 'vnic0000000e2e1' },
      { kind: 'table', key: '299' },
    ]);
    const fixed = await cli('check', '--fix');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout.match(/removed/g)).toHaveLength(2);
    expect((await cli('check')).code).toBe(0);
    expect((await sandbox.exec('node-1', ['ip', 'rule', 'show'])).stdout).not.toContain('lookup 299');
    // The pod is whole: its veth, rule 1535 and ARP reply are there.
    const kernel = await nodeLeftovers(sandbox, 'node-1');
    expect(kernel.links).toHaveLength(1);
    expect(kernel.rules).toHaveLength(1);
    expect(kernel.arp).toHaveLength(1);

    const qc = sandbox.qingcloud;
    const instance = sandbox.node('node-1').instanceId;
    const ours = (): number => qc.nics().filter((n) => n.instance_id === instance && n.nic_name.startsWith('hostnic_')).length;
    const busy = await cli('nics', 'clear', '--dry-run');
    expect(busy.code, busy.stderr).toBe(0);
    expect(busy.stdout).toMatch(/kept\s+1 pod\(s\) on it/);

    expect((await c().agent('node-1').plugin('DEL', ref)).code).toBe(0);
    const dry = await cli('nics', 'clear', '--dry-run');
    expect(dry.stdout).toContain('would-release');
    expect(ours()).toBe(1);
    const cleared = await cli('nics', 'clear', '--json');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect((JSON.parse(cleared.stdout) as { nics: { outcome: string }[] }).nics.map((n) => n.outcome)).toEqual(['released']);
    expect(ours()).toBe(0);
  });
});
