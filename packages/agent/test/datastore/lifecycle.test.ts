import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AgentDatastore, DatastoreClosedError, DatastoreOpenError, InvalidRecordError } from '../../src/datastore/index.ts';
import { nic, openStore, pod, tempDir } from './helpers.ts';

const run = promisify(execFile);

describe('lifecycle', () => {
  it('creates missing directories, also with dots in the name', async () => {
    const dir = join(tempDir(), 'var.lib', 'hostnic.d');
    openStore(dir);
    expect(existsSync(join(dir, 'data.mdb'))).toBe(true);
  });

  it('reports a directory it cannot create with a typed error', () => {
    const file = join(tempDir(), 'data.mdb');
    openStore(join(file, '..'));
    expect(() => AgentDatastore.open(join(file, 'sub'))).toThrow(DatastoreOpenError);
  });

  it('keeps everything across close and reopen', async () => {
    const dir = tempDir();
    const first = openStore(dir);
    await first.putNic(nic(1));
    await first.putPod(pod('c1', { nicId: nic(1).nicId }));
    const reserved = await first.allocateRouteTable(260);
    const intent = await first.beginIntent('create-nic', { vxnetId: 'vxnet-09' });
    await first.setBootId('  3b8a-boot\n');
    const before = first.snapshot();
    await first.close();

    const second = openStore(dir);
    expect(await second.listNics()).toEqual([nic(1)]);
    expect(await second.podsOnNic(nic(1).nicId)).toEqual([pod('c1', { nicId: nic(1).nicId })]);
    expect(await second.listIntents()).toEqual([intent]);
    expect(await second.bootId()).toBe('3b8a-boot');
    expect((await second.listRouteTables()).map((e) => e.table)).toEqual([reserved, 261]);
    const after = second.snapshot();
    expect({ ...after, takenAt: '' }).toEqual({ ...before, takenAt: '' });
  });

  it('closes idempotently and refuses calls afterwards', async () => {
    const store = openStore();
    await store.close();
    await store.close();
    expect(store.closed).toBe(true);
    await expect(store.listPods()).rejects.toBeInstanceOf(DatastoreClosedError);
    await expect(store.putNic(nic(1))).rejects.toBeInstanceOf(DatastoreClosedError);
    expect(() => store.snapshot()).toThrow(DatastoreClosedError);
  });

  it('refuses an empty boot id', async () => {
    await expect(openStore().setBootId(' ')).rejects.toBeInstanceOf(InvalidRecordError);
  });

  it('sees what another process commits, and allocations across processes never collide', async () => {
    const store = openStore();
    await store.allocateRouteTable(260);
    const module = pathToFileURL(join(import.meta.dirname, '../../src/datastore/index.ts')).href;
    const script = `
      const { AgentDatastore } = await import(${JSON.stringify(module)});
      const s = AgentDatastore.open(process.argv[1]);
      const tables = [];
      for (let i = 0; i < 5; i++) tables.push(await s.allocateRouteTable(260));
      await s.beginIntent('release-nic', { from: 'child' });
      await s.close();
      console.log(JSON.stringify(tables));`;
    const child = run(process.execPath, ['--input-type=module', '-e', script, store.path]);
    const mine: number[] = [];
    for (let i = 0; i < 5; i++) mine.push(await store.allocateRouteTable(260));
    const theirs = JSON.parse((await child).stdout) as number[];
    expect(new Set([260, ...mine, ...theirs]).size).toBe(11);
    expect((await store.listIntents()).map((i) => i.data['from'])).toEqual(['child']);
  });
});

describe('snapshot', () => {
  it('is a deep-frozen copy that later writes do not change', async () => {
    const store = openStore(tempDir(), { now: () => new Date('2025-05-05T05:05:05Z') });
    await store.putNic(nic(1));
    await store.putPod(pod('c1'));
    await store.beginIntent('wire-pod', { containerId: 'c1' });
    const snap = store.snapshot();

    expect(snap).toMatchObject({
      takenAt: '2025-05-05T05:05:05.000Z',
      schemaVersion: 1,
      bootId: undefined,
      nics: [nic(1)],
      pods: [pod('c1')],
      routeTables: [{ table: 261, nicId: nic(1).nicId, reservedAt: '2025-05-05T05:05:05.000Z' }],
      intents: [expect.objectContaining({ kind: 'wire-pod' })],
      problems: [],
    });
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.nics)).toBe(true);
    expect(Object.isFrozen(snap.nics[0]?.vxnet)).toBe(true);
    expect(() => {
      (snap.pods as unknown as unknown[]).push(pod('x'));
    }).toThrow(TypeError);

    await store.deleteNic(nic(1).nicId);
    await store.putPod(pod('c2'));
    expect(snap.nics).toHaveLength(1);
    expect(snap.pods).toHaveLength(1);
    expect(store.snapshot().nics).toHaveLength(0);
  });
});
