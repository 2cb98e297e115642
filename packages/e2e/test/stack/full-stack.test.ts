/**
 * All of hostnic together, as root: `hostnic-controller run` turns VxNetPool v-pool into VIPs, IPPools and
 * blocks and maps namespaces (auto mode); `hostnic-agent run` on two nodes; pods wired by the bundled plugin
 * get addresses from their namespace's blocks and reach each other and the VPC; the controller's tools see
 * the allocations; DEL gives everything back. The fake apiserver enforces deploy/hostnic.yaml's CRD schemas
 * and RBAC rules, with the agents and the controller on their own service accounts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockContains, claimNodeOf, parseBlockName, parseIpamConfig } from '@hostnic/ipam';
import type { IPAMBlock } from '@hostnic/ipam';
import { WiredPods, nodeLeftovers, startHostnicStack, until } from '../../src/stack/index.ts';
import type { HostnicStack } from '../../src/stack/index.ts';

const isRoot = process.getuid?.() === 0;
const PODS1 = { id: 'vxnet-pods001', cidr: '172.16.3.0/24' } as const;
const PODS2 = { id: 'vxnet-pods002', cidr: '172.16.4.0/24' } as const;

/** Whether an address lies in the block of that name (`4100-172-16-3-64-27` is 172.16.3.64/27). */
function inBlock(ip: string, blockName: string): boolean {
  const parsed = parseBlockName(blockName);
  return parsed !== undefined && blockContains({ cidr: parsed.cidr }, ip);
}

describe.skipIf(!isRoot)('controller, agents and plugin together (e2e)', () => {
  let stack: HostnicStack | undefined;
  const pods = new WiredPods();
  const s = (): HostnicStack => {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  };
  const pod = (key: string) => pods.get(key);

  beforeAll(async () => {
    stack = await startHostnicStack({
      prefix: `hf${randomBytes(2).toString('hex')}`,
      nodes: 2,
      agentsOn: ['node-1', 'node-2'],
      vxnets: [
        { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
        { id: PODS1.id, cidr: PODS1.cidr },
        { id: PODS2.id, cidr: PODS2.cidr },
      ],
      ipam: { kind: 'controller', vxnets: [PODS1.id, PODS2.id], blockSize: 27, ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}' } },
    });
    for (const [key, node, ns, name] of [
      ['a1', 'node-1', 'team-a', 'web-1'],
      ['a2', 'node-2', 'team-a', 'web-2'],
      ['b1', 'node-2', 'team-b', 'db-1'],
    ] as const) {
      const { ref, netns } = await s().createPod(node, ns, name);
      pods.set(key, { node, ref, netns, ip: '' });
    }
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('the controller prepared the IaaS and the pools', () => {
    const qc = s().sandbox.qingcloud;
    for (const id of [PODS1.id, PODS2.id]) {
      expect(qc.vips().filter((v) => v.vxnet_id === id && v.vip_name === `hostnic_${id}`).length).toBeGreaterThan(200);
      expect(s().kube.get('ippools', id)?.['spec']).toMatchObject({ type: 'local', blockSize: 27 });
    }
  });

  it('each agent keeps the original\'s mangle chains in its node, from the installed CNI config', async () => {
    for (const name of ['node-1', 'node-2']) {
      const node = s().sandbox.node(name);
      // Wait for the state itself: the agent sets the chains once it is ready.
      const rules = async (): Promise<string[]> =>
        (await s().sandbox.exec(name, ['iptables', '-t', 'mangle', '-S'])).stdout.split('\n').filter((l) => l.includes('HOSTNIC'));
      await expect.poll(rules, { timeout: 30_000, interval: 200 }).toEqual(expect.arrayContaining([
        expect.stringMatching(new RegExp(`^-A HOSTNIC-PREROUTING -m conntrack --ctorigdst ${node.ip.replace(/\./g, '\\.')}(/32)? -j MARK --set-xmark 0x10000/0x10000$`)),
        '-A HOSTNIC-OUTPUT -m conntrack --ctorigdst 10.233.0.0/18 -j MARK --set-xmark 0x10000/0x10000',
      ]));
    }
  });

  it('pods get addresses from their namespace\'s blocks and reach each other and the VPC', async () => {
    const mapping = async (): Promise<Map<string, readonly string[]>> => {
      const cm = s().kube.get('configmaps', 'hostnic-ipam-config', 'kube-system') as { data?: Record<string, string> } | undefined;
      return new Map(parseIpamConfig(cm?.data).namespaces);
    };
    await until('team-a and team-b mapped', 30_000, async () => {
      const m = await mapping();
      return m.has('team-a') && m.has('team-b') ? true : undefined;
    });
    for (const p of pods.values()) {
      const add = await s().agent(p.node).plugin('ADD', p.ref);
      expect(add.code, `${add.stdout}\n${add.stderr}\n${s().agent(p.node).child.output()}`).toBe(0);
      const result = JSON.parse(add.stdout) as { ips?: { address: string }[] };
      p.ip = result.ips?.[0]?.address.split('/')[0] ?? '';
    }
    const m = await mapping();
    for (const [key, ns] of [['a1', 'team-a'], ['a2', 'team-a'], ['b1', 'team-b']] as const) {
      expect((m.get(ns) ?? []).some((block) => inBlock(pod(key).ip, block)), `${key} ${pod(key).ip} in ${ns}'s blocks ${String(m.get(ns))}`).toBe(true);
    }
    const sb = s().sandbox;
    expect(await sb.ping(pod('a1').netns, pod('a2').ip, { attempts: 3 }), 'a1 → a2 across nodes').toBe(true);
    expect(await sb.ping(pod('a2').netns, pod('b1').ip, { attempts: 3 }), 'a2 → b1 same node').toBe(true);
    expect(await sb.vpcPing(pod('a1').ip, { attempts: 3 }), 'VPC → a1, no NAT').toBe(true);
  });

  /** Addresses the nodes' claims hold (free or used by a pod), counted in the blocks. */
  function claimedAddresses(): number {
    return (s().kube.list('ipamblocks') as unknown as IPAMBlock[]).reduce(
      (n, b) => n + b.spec.allocations.filter((i) => i !== null && claimNodeOf(b.spec.attributes[i]?.handle_id ?? undefined) !== undefined).length,
      0,
    );
  }

  /** The IPPools' status allocations, summed; -1 for a pool without status. */
  function poolAllocations(): number {
    return [PODS1.id, PODS2.id].reduce((n, id) => n + ((s().kube.get('ippools', id)?.['status'] as { allocations?: number } | undefined)?.allocations ?? -1), 0);
  }

  it('the controller\'s tools and status see the allocations', async () => {
    // The pods' addresses come from their nodes' claims: `ipam show --ip` names each pod once its node has
    // published it (in the background, without a write on the ADD's path).
    for (const key of ['a1', 'a2', 'b1']) {
      await until(`ipam show --ip names ${key}`, 30_000, async () => {
        const show = await s().controllerCli(['ipam', 'show', '--ip', pod(key).ip]);
        return show.code === 0 && show.stdout.includes(`pod ${pod(key).ref.namespace}/${pod(key).ref.name}`) ? true : undefined;
      });
    }
    const show = await s().controllerCli(['ipam', '-o', 'json', 'show']);
    expect(show.code, show.stderr).toBe(0);
    const report = JSON.parse(show.stdout) as { pools: { name: string; allocated: number }[] };
    const allocated = report.pools.reduce((n, p) => n + p.allocated, 0);
    // Every allocated address is a pod's or a claim's (the pods' are inside their nodes' claims).
    expect(allocated).toBeGreaterThanOrEqual(3);
    const check = await s().controllerCli(['ipam', 'check']);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    await until('IPPool status counts what the blocks hold', 30_000, async () => (poolAllocations() === claimedAddresses() && poolAllocations() >= 3 ? true : undefined));
  }, 120_000); // CLI processes and waits for the background publish and the status: more than the default 30 s under load

  it('DEL gives every address back and leaves nothing on the nodes', async () => {
    for (const p of pods.values()) {
      const del = await s().agent(p.node).plugin('DEL', p.ref);
      expect(del.code, del.stderr).toBe(0);
    }
    expect(await s().handlesWhen(0)).toEqual([]);
    for (const node of ['node-1', 'node-2']) expect(await nodeLeftovers(s().sandbox, node)).toEqual({ links: [], rules: [], arp: [] });
    // What stays allocated is the nodes' claims, ready for their next pods.
    await until('IPPool status back to the claims alone', 30_000, async () => (poolAllocations() === claimedAddresses() ? true : undefined));
  }, 90_000);

  it('ran within deploy/hostnic.yaml: no request of the agents or the controller was refused by its RBAC', () => {
    const users = new Set(s().kube.requestLog().map((e) => e.user));
    expect(users).toContain('system:serviceaccount:kube-system:hostnic-node');
    expect(users).toContain('system:serviceaccount:kube-system:hostnic-controller');
    expect(s().kube.rbacDenials().map((d) => d.message)).toEqual([]);
  });
});
