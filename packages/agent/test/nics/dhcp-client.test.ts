/**
 * A VLAN vxnet's bridge gets its address by DHCP from the vxnet (the sandbox runs dnsmasq on VLAN vxnets),
 * with the lease's lifetime, and keeps it on renewal; the node then reaches the vxnet's gateway through it.
 */
import { join } from 'node:path';
import { readAddresses } from '@hostnic/netlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLease, installDhcpScript, parseLease, requestLease } from '../../src/nics/dhcp-client.ts';
import { isRoot, startHarness, VXNET_VLAN, type Harness } from './helpers.ts';

function inRange(address: string, range: { start: string; end: string }): boolean {
  const n = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return n(address) >= n(range.start) && n(address) <= n(range.end);
}

describe.skipIf(!isRoot)('DHCP on a VLAN vxnet bridge', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('leases an address from the vxnet\'s DHCP range, applies it with the lease time, and renews the same one', async () => {
    const range = h.sandbox.vxnet(VXNET_VLAN.vxnetId).dhcpRange;
    expect(range).toEqual({ start: '172.16.4.219', end: '172.16.4.254' });
    const nic = await h.manager().ensureNic(VXNET_VLAN);
    const scriptPath = join(h.sandbox.directory, 'udhcpc.sh');
    await installDhcpScript(scriptPath);
    const lease = await requestLease({ ifName: nic.bridge, netns: h.netns, scriptPath });
    expect(inRange(lease.address, range!)).toBe(true);
    expect(lease).toMatchObject({ prefixLength: 24, router: VXNET_VLAN.gateway, leaseSec: 120 });
    await applyLease(nic.bridge, lease, h.netns);
    const on = (await readAddresses({ netns: h.netns })).filter((a) => a.ifName === nic.bridge && a.family === 4);
    expect(on.map((a) => a.cidr)).toEqual([`${lease.address}/24`]);
    expect((await h.sandbox.exec('node-1', ['ip', '-4', 'addr', 'show', 'dev', nic.bridge])).stdout).toMatch(/valid_lft (1[01]\d|120)sec/);
    // The VPC router reaches the node at its leased address, which only the bridge holds.
    expect(await h.sandbox.vpcPing(lease.address, { attempts: 3 })).toBe(true);
    const renewed = await requestLease({ ifName: nic.bridge, netns: h.netns, scriptPath, requestAddress: lease.address });
    expect(renewed.address).toBe(lease.address);
  });
});

describe('parseLease', () => {
  it('reads the script\'s line and ignores the rest of udhcpc\'s output', () => {
    const out = 'udhcpc: started\nHOSTNIC_DHCP_LEASE ip=172.16.4.230 mask=24 router=172.16.4.1 172.16.4.2 lease=120 serverid=172.16.4.1\n';
    expect(parseLease(out)).toEqual({ address: '172.16.4.230', prefixLength: 24, router: '172.16.4.1', leaseSec: 120, server: '172.16.4.1' });
    expect(parseLease('HOSTNIC_DHCP_LEASE ip= mask=24 router= lease=120 serverid=')).toBeUndefined();
    expect(parseLease('nothing')).toBeUndefined();
  });
});
