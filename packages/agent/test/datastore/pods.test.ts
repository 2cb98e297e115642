import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../src/datastore/index.ts';
import { openStore, pod } from './helpers.ts';

describe('pods', () => {
  it('puts, gets, replaces and deletes a pod keyed by container and interface', async () => {
    const store = openStore();
    expect(await store.getPod('c1', 'eth0')).toBeUndefined();
    await store.putPod(pod('c1'));
    await store.putPod(pod('c1', { ifName: 'net1', ip: '172.22.1.6' }));
    expect(await store.getPod('c1', 'eth0')).toEqual(pod('c1'));
    expect((await store.getPod('c1', 'net1'))?.ip).toBe('172.22.1.6');

    await store.putPod(pod('c1', { ip: '172.22.1.9' }));
    expect((await store.getPod('c1', 'eth0'))?.ip).toBe('172.22.1.9');

    expect(await store.deletePod('c1', 'eth0')).toEqual(pod('c1', { ip: '172.22.1.9' }));
    expect(await store.getPod('c1', 'eth0')).toBeUndefined();
    expect(await store.deletePod('c1', 'eth0')).toBeUndefined();
    expect((await store.listPods()).map((p) => p.ifName)).toEqual(['net1']);
  });

  it('lists all pods, by NIC and by IPAM handle', async () => {
    const store = openStore();
    await store.putPod(pod('a', { nicId: 'nic-1', handleId: 'h1' }));
    await store.putPod(pod('b', { nicId: 'nic-1', handleId: 'h2' }));
    await store.putPod(pod('c', { nicId: 'nic-2', handleId: 'h2' }));
    expect((await store.listPods()).map((p) => p.containerId)).toEqual(['a', 'b', 'c']);
    expect((await store.podsOnNic('nic-1')).map((p) => p.containerId)).toEqual(['a', 'b']);
    expect((await store.podsOnNic('nic-9'))).toEqual([]);
    expect((await store.podsOfHandle('h2')).map((p) => p.containerId)).toEqual(['b', 'c']);
  });

  it('finishes the named intents with the record it writes or removes, leaving the others open', async () => {
    const store = openStore();
    const add = await store.beginIntent('wire-pod', { containerId: 'c1' });
    const other = await store.beginIntent('wire-pod', { containerId: 'c2' });
    await store.putPod(pod('c1'), [add.id]);
    expect((await store.listIntents()).map((i) => i.id)).toEqual([other.id]);

    const del = await store.beginIntent('unwire-pod', { containerId: 'c1' });
    const earlier = await store.beginIntent('unwire-pod', { containerId: 'c1' });
    expect(await store.deletePod('c1', 'eth0', [del.id, earlier.id])).toEqual(pod('c1'));
    expect((await store.listIntents()).map((i) => i.id)).toEqual([other.id]);
  });

  it('writes neither the record nor the finish when the record is invalid', async () => {
    const store = openStore();
    const add = await store.beginIntent('wire-pod', { containerId: 'c1' });
    await expect(store.putPod(pod('c1', { ifName: 'eth/0' }), [add.id])).rejects.toBeInstanceOf(InvalidRecordError);
    expect((await store.listIntents()).map((i) => i.id)).toEqual([add.id]);
  });

  it('refuses an invalid pod record and writes nothing', async () => {
    const store = openStore();
    await expect(store.putPod(pod('c1', { ifName: 'eth/0' }))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.putPod(pod('', {}))).rejects.toThrow(/containerId is empty/);
    await expect(store.putPod({ ...pod('c1'), createdAt: 'yesterday' })).rejects.toThrow(/createdAt/);
    expect(await store.listPods()).toEqual([]);
  });

  it('hands out copies: mutating a returned record does not change the store', async () => {
    const store = openStore();
    await store.putPod(pod('c1'));
    const got = await store.getPod('c1', 'eth0');
    if (got === undefined) throw new Error('missing');
    got.ip = '10.0.0.1';
    expect((await store.getPod('c1', 'eth0'))?.ip).toBe('172.22.1.5');
  });
});
