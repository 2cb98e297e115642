/**
 * VLAN bridge leases: the pure decisions (keep, put back, ask), and against the sandbox's dnsmasq the whole
 * life of a lease through the NIC manager: leased at NIC setup, renewed for the same address at T1 (the clock
 * is driven), put back from the record after the address is lost without asking the server again, given back
 * to the server when the NIC is released. A wrapper around udhcpc counts the DHCP exchanges.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAddresses } from '@hostnic/netlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewalWaitMs } from '../../src/daemon/lease-renewal.ts';
import { leaseAction, nextRenewalMs, renewAtMs } from '../../src/nics/bridge-lease.ts';
import { installDhcpScript } from '../../src/nics/dhcp-client.ts';
import type { BridgeLease, NicRecord } from '../../src/types.ts';
import { isRoot, startHarness, VXNET_A, VXNET_VLAN, type Harness } from './helpers.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const LEASE: BridgeLease = { address: '172.16.4.230', prefixLength: 24, leaseSec: 120, obtainedAt: new Date(T0).toISOString() };

describe('lease decisions', () => {
  it('asks without a lease, keeps a current one, puts a lost one back, renews the same address from T1', () => {
    expect(leaseAction(undefined, false, T0)).toEqual({ kind: 'request', requestAddress: undefined });
    expect(leaseAction(LEASE, true, T0 + 59_000)).toEqual({ kind: 'keep' });
    expect(leaseAction(LEASE, false, T0 + 20_000)).toEqual({ kind: 'reapply', remainingSec: 100 });
    expect(renewAtMs(LEASE)).toBe(T0 + 60_000);
    expect(leaseAction(LEASE, true, T0 + 60_000)).toEqual({ kind: 'request', requestAddress: '172.16.4.230' });
    expect(leaseAction(LEASE, false, T0 + 500_000)).toEqual({ kind: 'request', requestAddress: '172.16.4.230' });
  });

  it('the next renewal is the earliest T1 of the set-up VLAN NICs; one without a lease is due now', () => {
    const rec = (over: Partial<NicRecord>): NicRecord => ({
      nicId: '52:54:00:00:00:01', vxnet: VXNET_VLAN, routeTable: 260, linkName: 'hostnic_pods002', bridge: 'br_260',
      phase: 'Succeeded', createdAt: LEASE.obtainedAt, ...over,
    });
    expect(nextRenewalMs([rec({ vxnet: VXNET_A })])).toBeUndefined();
    expect(nextRenewalMs([rec({ dhcpLease: LEASE }), rec({ dhcpLease: { ...LEASE, leaseSec: 60 } })])).toBe(T0 + 30_000);
    expect(nextRenewalMs([rec({ dhcpLease: LEASE }), rec({})])).toBe(0);
    expect(nextRenewalMs([rec({ phase: 'Init' })])).toBeUndefined();
  });

  it('the renewal timer waits until T1, never less than the minimum nor more than the maximum', () => {
    expect(renewalWaitMs(undefined, T0, 5_000, 60_000)).toBe(60_000);
    expect(renewalWaitMs(T0 + 30_000, T0, 5_000, 60_000)).toBe(30_000);
    expect(renewalWaitMs(T0 - 1, T0, 5_000, 60_000)).toBe(5_000);
    expect(renewalWaitMs(T0 + 600_000, T0, 5_000, 60_000)).toBe(60_000);
  });
});

describe.skipIf(!isRoot)('VLAN bridge lease through the NIC manager (sandbox dnsmasq)', () => {
  let h: Harness;
  let countFile: string;
  let scriptPath: string;
  const exchanges = async (): Promise<number> => (await readFile(countFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  const bridgeCidrs = async (bridge: string): Promise<string[]> =>
    (await readAddresses({ netns: h.netns })).filter((a) => a.ifName === bridge && a.family === 4).map((a) => a.cidr);
  const serverLeases = (): Promise<string> => readFile(join(h.sandbox.directory, `dnsmasq-${VXNET_VLAN.vxnetId}.leases`), 'utf8').catch(() => '');

  beforeAll(async () => {
    h = await startHarness();
    countFile = join(h.sandbox.directory, 'udhcpc-runs');
    scriptPath = join(h.sandbox.directory, 'udhcpc-report.sh');
    await installDhcpScript(scriptPath);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('leases at setup, renews at T1, reuses the stored lease, releases it with the NIC', async () => {
    const dhcp = { scriptPath, command: ['sh', '-c', `echo run >> ${countFile}; exec busybox udhcpc "$@"`, 'udhcpc'] };
    const manager = h.manager({ dhcp });
    const nic = await manager.ensureNic(VXNET_VLAN);
    const lease = (await h.store.getNic(nic.nicId))?.dhcpLease;
    if (lease === undefined) throw new Error('no lease recorded at setup');
    expect(lease).toMatchObject({ prefixLength: 24, leaseSec: 120 });
    expect(await bridgeCidrs(nic.bridge)).toEqual([`${lease.address}/24`]);
    expect(await serverLeases()).toContain(lease.address);
    expect(await h.sandbox.vpcPing(lease.address, { attempts: 3 })).toBe(true);
    expect(await exchanges()).toBe(1);

    // Before T1 nothing is due; at T1 the same address is renewed and the new grant recorded.
    expect(await manager.nextLeaseRenewal()).toBe(renewAtMs(lease));
    expect(await manager.renewLeases()).toEqual([]);
    expect(await exchanges()).toBe(1);
    h.clock.offset += 61_000;
    expect(await manager.renewLeases()).toEqual([]);
    const renewed = (await h.store.getNic(nic.nicId))?.dhcpLease;
    expect(renewed?.address).toBe(lease.address);
    expect(Date.parse(renewed?.obtainedAt ?? '')).toBeGreaterThan(Date.parse(lease.obtainedAt));
    expect(await exchanges()).toBe(2);

    // The address lost (a reboot, a bridge made again): an agent started anew puts it back from the record.
    await h.sandbox.exec('node-1', ['ip', 'addr', 'flush', 'dev', nic.bridge]);
    const restarted = h.manager({ dhcp });
    expect((await restarted.reconcile()).errors).toEqual([]);
    expect(await bridgeCidrs(nic.bridge)).toEqual([`${lease.address}/24`]);
    expect(await exchanges()).toBe(2);

    const released = await restarted.releaseNic(nic.nicId);
    expect(released).toMatchObject({ released: true });
    expect(await exchanges()).toBe(3);
    // dnsmasq rewrites its lease file after handling the release.
    await expect.poll(serverLeases, { timeout: 30_000, interval: 100 }).not.toContain(lease.address);
  }, 60_000);
});
