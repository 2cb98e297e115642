/**
 * End to end, as root: agents on node-1 and node-2 (each its own `hostnic-agent run`), two pod vxnets mapped
 * by namespace (`a` → vxnet-pods001 through Default, `b` → the blocks of vxnet-pods002), pods wired by the
 * bundled plugin; the traffic matrix is checked with bounded pings and a UDP listener that shows the source
 * address a pod sees; then DEL of every pod leaves no handle, pod link, rule 1535 or ARP answer.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { WiredPods } from '../../src/stack/index.ts';
import { MGMT, PODS1, PODS2, agentClusterFixture, nodeLeftovers, startChild } from './harness.ts';
import type { Child } from './harness.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('traffic matrix across two nodes and two vxnets (e2e)', () => {
  const c = agentClusterFixture('ht', {
    nodes: 2,
    agentsOn: ['node-1', 'node-2'],
    vxnets: [MGMT, PODS1, PODS2],
    pools: [PODS1.id, PODS2.id],
    mapping: (blocksOf) => ({ Default: [PODS1.id], b: blocksOf(PODS2.id) }),
  });
  const pods = new WiredPods();
  const pod = (key: string) => pods.get(key);

  beforeAll(async () => {
    for (const [key, node, ns, name] of [
      ['p1', 'node-1', 'a', 'p1'],
      ['p2', 'node-1', 'a', 'p2'],
      ['q1', 'node-1', 'b', 'q1'],
      ['p3', 'node-2', 'a', 'p3'],
    ] as const) {
      const { ref, netns } = await c().createPod(node, ns, name);
      pods.set(key, { node, ref, netns, ip: '' });
    }
  }, 120_000);

  it('ADD through the plugin on both nodes gives each namespace its vxnet', async () => {
    for (const p of pods.values()) {
      const add = await c().agent(p.node).plugin('ADD', p.ref);
      expect(add.code, `${add.stdout}\n${add.stderr}\n${c().agent(p.node).child.output()}`).toBe(0);
      const result = JSON.parse(add.stdout) as { ips?: { address: string }[] };
      p.ip = result.ips?.[0]?.address.split('/')[0] ?? '';
    }
    expect(pod('p1').ip.startsWith('172.16.3.')).toBe(true);
    expect(pod('p2').ip.startsWith('172.16.3.')).toBe(true);
    expect(pod('p3').ip.startsWith('172.16.3.')).toBe(true);
    expect(pod('q1').ip.startsWith('172.16.4.')).toBe(true);
    expect(await c().handlesWhen(4)).toHaveLength(4);
    // The leftover probe sees what a wired pod leaves, so its empty answer after DEL means something.
    const wired = await nodeLeftovers(c().sandbox, 'node-1');
    expect(wired.links.length).toBe(3);
    expect(wired.rules.length).toBe(3);
    expect(wired.arp.length).toBe(3);
  }, 60_000);

  it('pings: same node, across nodes, across vxnets, pod to node, gateway to pod', async () => {
    const s = c().sandbox;
    const ping = (from: string, to: string) => s.ping(pod(from).netns, to, { attempts: 3 });
    expect(await ping('p1', pod('p2').ip), 'p1 → p2 (same node)').toBe(true);
    expect(await ping('p1', pod('p3').ip), 'p1 → p3 (across nodes)').toBe(true);
    expect(await ping('p3', pod('p1').ip), 'p3 → p1 (across nodes)').toBe(true);
    expect(await ping('p1', pod('q1').ip), 'p1 → q1 (across vxnets)').toBe(true);
    expect(await ping('q1', pod('p3').ip), 'q1 → p3 (across vxnets and nodes)').toBe(true);
    expect(await ping('p1', s.node('node-1').ip), 'p1 → node-1').toBe(true);
    expect(await ping('p3', s.node('node-2').ip), 'p3 → node-2').toBe(true);
    for (const key of ['p1', 'p2', 'p3', 'q1']) {
      expect(await s.vpcPing(pod(key).ip, { attempts: 3 }), `gateway → ${key}`).toBe(true);
    }
  }, 60_000);

  it('a pod sees the real source addresses (no NAT) from another node and from the gateway', async () => {
    const s = c().sandbox;
    const target = pod('p3');
    const port = 40000 + Math.floor(Math.random() * 20000);
    const listener: Child = startChild(
      [
        'nsenter', `--net=${target.netns.path}`, '--', process.execPath, '-e',
        `const s = require('node:dgram').createSocket('udp4'); let n = 0;
         s.on('message', (m, r) => { process.stdout.write('from ' + r.address + '\\n'); if (++n === 2) s.close(); });
         s.bind(${port}, () => process.stdout.write('ready\\n')); setTimeout(() => process.exit(3), 15000);`,
      ],
      process.env,
      '/',
    );
    try {
      await listener.waitForOutput('ready', 10_000);
      const send = `const s = require('node:dgram').createSocket('udp4'); s.send('x', ${port}, '${target.ip}', () => s.close());`;
      const fromPod = await s.exec(pod('p1').netns, [process.execPath, '-e', send]);
      expect(fromPod.code, fromPod.stderr).toBe(0);
      await listener.waitForOutput(`from ${pod('p1').ip}\n`, 5_000);
      const fromVpc = await s.exec(s.vpc.netns, [process.execPath, '-e', send]);
      expect(fromVpc.code, fromVpc.stderr).toBe(0);
      await listener.waitForOutput(`from ${s.vxnet(PODS1.id).gateway}\n`, 5_000);
    } finally {
      listener.kill();
    }
  }, 40_000);

  it('DEL of every pod leaves no handle, pod link, rule 1535 or ARP answer; a second DEL succeeds', async () => {
    for (const p of pods.values()) {
      const del = await c().agent(p.node).plugin('DEL', p.ref);
      expect(del.code, `${del.stdout}\n${del.stderr}`).toBe(0);
    }
    expect(await c().handlesWhen(0)).toEqual([]);
    for (const node of ['node-1', 'node-2']) {
      expect(await nodeLeftovers(c().sandbox, node)).toEqual({ links: [], rules: [], arp: [] });
    }
    for (const p of pods.values()) {
      const again = await c().agent(p.node).plugin('DEL', p.ref);
      expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    }
  }, 60_000);
});
