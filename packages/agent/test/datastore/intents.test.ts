import { describe, expect, it } from 'vitest';
import { IntentNotFoundError, InvalidRecordError } from '../../src/datastore/index.ts';
import { openStore, tempDir } from './helpers.ts';

describe('intent journal', () => {
  it('begins, lists in start order, updates and finishes intents', async () => {
    const now = new Date('2025-03-01T10:00:00Z');
    const store = openStore(tempDir(), { now: () => now });
    const create = await store.beginIntent('create-nic', { vxnetId: 'vxnet-a', nicName: 'hostnic_i-1' });
    const wire = await store.beginIntent('wire-pod', { containerId: 'c1', ifName: 'eth0', ip: '172.22.0.5' });
    expect(create).toEqual({
      id: create.id,
      kind: 'create-nic',
      data: { vxnetId: 'vxnet-a', nicName: 'hostnic_i-1' },
      startedAt: '2025-03-01T10:00:00.000Z',
    });
    expect(create.id < wire.id).toBe(true);

    const updated = await store.updateIntent(create.id, { nicId: '52:54:9e:d0:dd:96', attempt: 2, dryRun: false, job: null });
    expect(updated.data).toEqual({ vxnetId: 'vxnet-a', nicName: 'hostnic_i-1', nicId: '52:54:9e:d0:dd:96', attempt: 2, dryRun: false, job: null });
    expect(await store.getIntent(create.id)).toEqual(updated);
    expect((await store.listIntents()).map((i) => i.kind)).toEqual(['create-nic', 'wire-pod']);

    await store.finishIntent(create.id);
    await store.finishIntent(create.id);
    expect((await store.listIntents()).map((i) => i.id)).toEqual([wire.id]);
    await expect(store.updateIntent(create.id, {})).rejects.toBeInstanceOf(IntentNotFoundError);
  });

  it('orders many intents by start, past ten and a hundred', async () => {
    const store = openStore();
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push((await store.beginIntent('allocate-ip', { i })).id);
    expect((await store.listIntents()).map((i) => i.data['i'])).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it('refuses data that is not flat JSON scalars', async () => {
    const store = openStore();
    await expect(store.beginIntent('release-ip', { nested: { a: 1 } as never })).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.beginIntent('release-ip', { n: Number.NaN })).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.beginIntent('nope' as never, {})).rejects.toBeInstanceOf(InvalidRecordError);
    expect(await store.listIntents()).toEqual([]);
  });

  it('survives close and reopen, and never reuses an id', async () => {
    const dir = tempDir();
    const first = openStore(dir);
    const a = await first.beginIntent('attach-nic', { nicId: 'n1' });
    const b = await first.beginIntent('release-nic', { nicId: 'n2' });
    await first.finishIntent(b.id);
    await first.close();

    const second = openStore(dir);
    expect(await second.listIntents()).toEqual([a]);
    const c = await second.beginIntent('setup-nic', { nicId: 'n3' });
    expect(c.id > b.id).toBe(true);
  });
});
