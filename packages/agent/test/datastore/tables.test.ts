import { describe, expect, it } from 'vitest';
import { InvalidRecordError, RouteTableConflictError } from '../../src/datastore/index.ts';
import { nic, openStore } from './helpers.ts';

describe('route table allocation', () => {
  it('hands out 260, 261, and 260 again once its NIC is deleted', async () => {
    const store = openStore();
    const a = await store.allocateRouteTable(260);
    await store.putNic(nic(1, { routeTable: a }));
    const b = await store.allocateRouteTable(260);
    await store.putNic(nic(2, { routeTable: b }));
    expect([a, b]).toEqual([260, 261]);

    await store.deleteNic(nic(1).nicId);
    const c = await store.allocateRouteTable(260);
    expect(c).toBe(260);
    await store.putNic(nic(3, { routeTable: c }));
    expect(await store.allocateRouteTable(260)).toBe(262);
  });

  it('skips tables the kernel already uses', async () => {
    const store = openStore();
    expect(await store.allocateRouteTable(260, [260, 261, 263])).toBe(262);
    expect(await store.allocateRouteTable(260, [260, 261, 263])).toBe(264);
  });

  it('takes a preferred table the kernel uses unless a record or reservation holds it', async () => {
    const store = openStore();
    expect(await store.allocateRouteTable(260, [260, 262], 262)).toBe(262);
    await store.putNic(nic(1, { routeTable: 262 }));
    // Held by the record now: the preference gives way to the lowest free table.
    expect(await store.allocateRouteTable(260, [260, 262], 262)).toBe(261);
    // Below the base: ignored.
    expect(await store.allocateRouteTable(260, [], 259)).toBe(260);
  });

  it('skips the kernel tables 253-255 and refuses a base that is not a table', async () => {
    const store = openStore();
    expect(await store.allocateRouteTable(252)).toBe(252);
    expect(await store.allocateRouteTable(252)).toBe(256);
    await expect(store.allocateRouteTable(0)).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.allocateRouteTable(254)).rejects.toBeInstanceOf(InvalidRecordError);
  });

  it('holds a reservation until released, even before a NIC uses it', async () => {
    const store = openStore();
    const t = await store.allocateRouteTable(260);
    expect(await store.listRouteTables()).toEqual([{ table: 260, reservedAt: expect.any(String) }]);
    expect(await store.allocateRouteTable(260)).toBe(261);
    expect(await store.releaseRouteTable(t)).toBe(true);
    expect(await store.releaseRouteTable(t)).toBe(false);
    expect(await store.allocateRouteTable(260)).toBe(260);
  });

  it('does not release a table a NIC holds', async () => {
    const store = openStore();
    await store.putNic(nic(0));
    await expect(store.releaseRouteTable(260)).rejects.toBeInstanceOf(RouteTableConflictError);
    expect((await store.listRouteTables()).map((e) => e.table)).toEqual([260]);
  });

  it('never gives the same table to parallel callers', async () => {
    const store = openStore();
    await store.putNic(nic(3));
    const tables = await Promise.all(Array.from({ length: 50 }, () => store.allocateRouteTable(260, [270])));
    expect(new Set(tables).size).toBe(50);
    expect(tables).not.toContain(263);
    expect(tables).not.toContain(270);
    expect(Math.min(...tables)).toBe(260);
    expect(Math.max(...tables)).toBe(311);
  });

  it('never gives the same table to two stores open on one directory', async () => {
    const first = openStore();
    const second = openStore(first.path);
    const tables: number[] = [];
    for (let i = 0; i < 10; i++) {
      tables.push(await first.allocateRouteTable(260), await second.allocateRouteTable(260));
    }
    expect(new Set(tables).size).toBe(20);
  });
});
