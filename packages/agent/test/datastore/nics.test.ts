import { describe, expect, it } from 'vitest';
import { InvalidRecordError, RouteTableConflictError, VxnetConflictError } from '../../src/datastore/index.ts';
import { nic, openStore } from './helpers.ts';

describe('NICs', () => {
  it('puts, gets, finds by vxnet, lists and deletes', async () => {
    const store = openStore();
    await store.putNic(nic(1));
    await store.putNic(nic(2));
    expect(await store.getNic(nic(1).nicId)).toEqual(nic(1));
    expect(await store.getNic('52:54:00:00:00:00')).toBeUndefined();
    expect((await store.nicForVxnet('vxnet-02'))?.nicId).toBe(nic(2).nicId);
    expect(await store.nicForVxnet('vxnet-ff')).toBeUndefined();
    expect((await store.listNics()).map((n) => n.nicId)).toEqual([nic(1).nicId, nic(2).nicId]);

    await store.putNic(nic(1, { phase: 'JoinBridge', lastError: 'br_261 exists', idleSince: '2025-01-02T00:00:00Z' }));
    expect(await store.getNic(nic(1).nicId)).toMatchObject({ phase: 'JoinBridge', lastError: 'br_261 exists' });

    await store.deleteNic(nic(1).nicId);
    await store.deleteNic(nic(1).nicId);
    expect(await store.getNic(nic(1).nicId)).toBeUndefined();
    expect((await store.listNics()).map((n) => n.nicId)).toEqual([nic(2).nicId]);
  });

  it('keeps a VLAN bridge\'s DHCP lease with the record and refuses a malformed one, naming the field', async () => {
    const store = openStore();
    const dhcpLease = { address: '172.16.4.230', prefixLength: 24, leaseSec: 120, obtainedAt: '2026-01-01T00:00:00.000Z' };
    await store.putNic(nic(1, { dhcpLease }));
    expect((await store.getNic(nic(1).nicId))?.dhcpLease).toEqual(dhcpLease);
    await expect(store.putNic(nic(2, { dhcpLease: { ...dhcpLease, leaseSec: 0 } }))).rejects.toThrow(/dhcpLease\.leaseSec/);
    await expect(store.putNic(nic(2, { dhcpLease: { ...dhcpLease, address: 'x' } }))).rejects.toThrow(/dhcpLease\.address/);
    await expect(store.putNic(nic(2, { dhcpLease: { ...dhcpLease, obtainedAt: 'soon' } }))).rejects.toThrow(/dhcpLease\.obtainedAt/);
  });

  it('binds the route table to the NIC and frees it with the record', async () => {
    const store = openStore();
    await store.putNic(nic(1));
    expect(await store.listRouteTables()).toEqual([expect.objectContaining({ table: 261, nicId: nic(1).nicId })]);
    await store.deleteNic(nic(1).nicId);
    expect(await store.listRouteTables()).toEqual([]);
  });

  it('moving a NIC to another table frees the old one', async () => {
    const store = openStore();
    await store.putNic(nic(1));
    await store.putNic(nic(1, { routeTable: 300 }));
    expect((await store.listRouteTables()).map((e) => e.table)).toEqual([300]);
  });

  it('keeps one NIC per vxnet and one NIC per table; a refused write changes nothing', async () => {
    const store = openStore();
    await store.putNic(nic(1));
    await expect(store.putNic(nic(2, { vxnet: nic(1).vxnet }))).rejects.toBeInstanceOf(VxnetConflictError);
    const clash = store.putNic(nic(2, { routeTable: 261 }));
    await expect(clash).rejects.toBeInstanceOf(RouteTableConflictError);
    await expect(clash).rejects.toMatchObject({ table: 261, holder: nic(1).nicId });
    expect((await store.listNics()).map((n) => n.nicId)).toEqual([nic(1).nicId]);
    expect((await store.listRouteTables()).map((e) => e.table)).toEqual([261]);
  });

  it('refuses invalid NIC records', async () => {
    const store = openStore();
    await expect(store.putNic(nic(1, { nicId: '52:54:9E:D0:DD:01' }))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.putNic(nic(1, { routeTable: 254 }))).rejects.toThrow(/kernel's own/);
    await expect(store.putNic(nic(1, { routeTable: 1.5 }))).rejects.toThrow(/routeTable/);
    await expect(store.putNic({ ...nic(1), phase: 'Done' as never })).rejects.toThrow(/phase/);
    await expect(
      store.putNic(nic(1, { vxnet: { ...nic(1).vxnet, tunnelType: 'gre' as never } })),
    ).rejects.toThrow(/tunnelType/);
    expect(await store.listNics()).toEqual([]);
    expect(await store.listRouteTables()).toEqual([]);
  });
});
