import { describe, expect, it } from 'vitest';
import { encode } from '../../src/datastore/codec.ts';
import type { DatastoreProblem } from '../../src/datastore/index.ts';
import { nic, openStore, pod, tempDir, writeRaw } from './helpers.ts';

describe('values written behind the store\'s back', () => {
  async function damaged(): Promise<string> {
    const dir = tempDir();
    const store = openStore(dir);
    await store.putNic(nic(1));
    await store.putPod(pod('good'));
    await store.beginIntent('wire-pod', { containerId: 'good' });
    await store.close();
    await writeRaw(dir, 'pods', 'bad/eth0', Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await writeRaw(dir, 'pods', 'json/eth0', Buffer.from('{"containerId":"json"'));
    await writeRaw(dir, 'nics', '52:54:9e:d0:dd:02', encode({ nicId: '52:54:9e:d0:dd:02', phase: 4 }));
    await writeRaw(dir, 'nics', 'not-the-id', encode(nic(3)));
    await writeRaw(dir, 'intents', '9999999999999999', Buffer.from('null'));
    await writeRaw(dir, 'tables', 300, Buffer.from('[]'));
    return dir;
  }

  it('skips the bad values, keeps serving the good ones and reports each once', async () => {
    const seen: DatastoreProblem[] = [];
    const store = openStore(await damaged(), { onProblem: (p) => seen.push(p) });

    expect((await store.listPods()).map((p) => p.containerId)).toEqual(['good']);
    expect(await store.getPod('bad', 'eth0')).toBeUndefined();
    expect((await store.listNics()).map((n) => n.nicId)).toEqual([nic(1).nicId]);
    expect(await store.getNic('52:54:9e:d0:dd:02')).toBeUndefined();
    expect(await store.nicForVxnet('vxnet-03')).toBeUndefined();
    expect(await store.listIntents()).toHaveLength(1);
    expect((await store.listRouteTables()).map((e) => e.table)).toEqual([261]);

    const problems = store.problems();
    expect(problems.map((p) => p.key)).toEqual([
      'intents/9999999999999999',
      'nics/52:54:9e:d0:dd:02',
      'nics/not-the-id',
      'pods/bad/eth0',
      'pods/json/eth0',
      'tables/300',
    ]);
    expect(problems.find((p) => p.key === 'pods/bad/eth0')?.reason).toMatch(/not UTF-8/);
    expect(problems.find((p) => p.key === 'pods/json/eth0')?.reason).toMatch(/not JSON/);
    expect(problems.find((p) => p.key === 'nics/52:54:9e:d0:dd:02')?.reason).toMatch(/vxnet/);
    expect(problems.find((p) => p.key === 'nics/not-the-id')?.reason).toMatch(/key does not match/);
    expect(problems.find((p) => p.key === 'nics/52:54:9e:d0:dd:02')?.database).toBe('nics');
    // Reported when first seen (at open), not again on every read.
    expect(seen).toHaveLength(6);
  });

  it('a table held by an unreadable entry is still not handed out', async () => {
    const store = openStore(await damaged());
    expect(await store.allocateRouteTable(300)).toBe(301);
  });

  it('overwriting or deleting a bad key clears its problem', async () => {
    const store = openStore(await damaged());
    await store.putPod(pod('bad'));
    await store.deletePod('json', 'eth0');
    await store.deleteNic('52:54:9e:d0:dd:02');
    expect(store.problems().map((p) => p.key)).toEqual(['intents/9999999999999999', 'nics/not-the-id', 'tables/300']);
    expect((await store.listPods()).map((p) => p.containerId)).toEqual(['bad', 'good']);
  });

  it('a bad intent does not stop the journal from giving out fresh ids', async () => {
    const store = openStore(await damaged());
    const next = await store.beginIntent('unwire-pod', {});
    expect(next.id).toBe('10000000000000000');
    expect((await store.listIntents()).map((i) => i.kind)).toEqual(['wire-pod', 'unwire-pod']);
  });

  it('quarantine moves the bad values aside', async () => {
    const dir = await damaged();
    const store = openStore(dir);
    expect(await store.quarantineProblems()).toBe(6);
    expect(store.problems()).toEqual([]);
    expect(await store.quarantineProblems()).toBe(0);
    expect(await store.allocateRouteTable(300)).toBe(300);
    expect((await store.listPods()).map((p) => p.containerId)).toEqual(['good']);
    await store.close();

    const reopened = openStore(dir);
    expect(reopened.problems()).toEqual([]);
    expect((await reopened.listNics()).map((n) => n.nicId)).toEqual([nic(1).nicId]);
  });

  it('a value damaged while the store is open is skipped on the next read', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    await store.putPod(pod('a'));
    // writeRaw opens a second handle on the directory, as db tooling run next to the agent would.
    await writeRaw(dir, 'pods', 'a/eth0', Buffer.from('garbage'));
    expect(await store.getPod('a', 'eth0')).toBeUndefined();
    expect(store.problems().map((p) => p.key)).toEqual(['pods/a/eth0']);
  });
});
