/**
 * A VLAN vxnet end to end, as root: the sandbox's VPC serves DHCP on it (dnsmasq), the agent's first pod there
 * makes the NIC and br_260 gets its address from that server, as the original did; the pod reaches the
 * gateway and the gateway the pod; a restarted agent keeps the same lease (stored in the NIC record) rather
 * than asking again.
 */

import { describe, expect, it } from 'vitest';
import { agentClusterFixture, MGMT, socketGet } from './harness.ts';

const isRoot = process.getuid?.() === 0;
const VLAN = { id: 'vxnet-pods002', cidr: '172.16.4.0/24', tunnelType: 'vlan' } as const;

interface Lease { address: string; prefixLength: number; obtainedAt: string }

function inRange(address: string, range: { start: string; end: string }): boolean {
  const n = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return n(address) >= n(range.start) && n(address) <= n(range.end);
}

describe.skipIf(!isRoot)('VLAN vxnet: br_N addressed by DHCP (e2e)', () => {
  const c = agentClusterFixture('hv', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, VLAN],
    pools: [VLAN.id],
    mapping: () => ({ Default: [VLAN.id] }),
  });
  const leaseOf = async (): Promise<Lease | undefined> => {
    const r = await socketGet(c().agent('node-1').socket, '/v1/nics');
    const nics = (r?.body as { nics?: { bridge: string; dhcpLease?: Lease }[] } | undefined)?.nics ?? [];
    return nics.find((n) => n.bridge === 'br_260')?.dhcpLease;
  };
  const bridgeAddresses = async (): Promise<string[]> =>
    (await c().sandbox.exec('node-1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'br_260'])).stdout.split('\n').flatMap((l) => /inet (\S+)/.exec(l)?.[1] ?? []);

  it('the first pod\'s NIC gets br_260 a leased address; the pod and the gateway reach each other', async () => {
    const { ref, netns } = await c().createPod('node-1', 'default', 'v1');
    const add = await c().agent('node-1').plugin('ADD', ref);
    expect(add.code, `${add.stdout}\n${add.stderr}`).toBe(0);
    const ip = (JSON.parse(add.stdout) as { ips?: { address: string }[] }).ips?.[0]?.address.split('/')[0] ?? '';
    expect(ip.startsWith('172.16.4.')).toBe(true);
    const lease = await leaseOf();
    if (lease === undefined) throw new Error('no DHCP lease recorded for br_260');
    const range = c().sandbox.vxnet(VLAN.id).dhcpRange;
    if (range === undefined) throw new Error('the sandbox serves no DHCP on the VLAN vxnet');
    expect(inRange(lease.address, range)).toBe(true);
    expect(await bridgeAddresses()).toEqual([`${lease.address}/24`]);
    const s = c().sandbox;
    expect(await s.ping(netns, s.vxnet(VLAN.id).gateway, { attempts: 3 }), 'pod → gateway').toBe(true);
    expect(await s.vpcPing(ip, { attempts: 3 }), 'gateway → pod').toBe(true);
    expect(await s.vpcPing(lease.address, { attempts: 3 }), 'gateway → br_260').toBe(true);
  }, 60_000);

  it('a restarted agent keeps the lease it stored', async () => {
    const before = await leaseOf();
    await c().agent('node-1').restart();
    expect(await leaseOf()).toEqual(before);
    expect(await bridgeAddresses()).toEqual([`${before?.address ?? '?'}/24`]);
  }, 60_000);
});
