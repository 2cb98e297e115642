/** The one-time import of the Go agent's LevelDB records into the datastore, from a database real LevelDB wrote. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostVethName } from '@hostnic/netlink';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentDatastore } from '../../src/datastore/index.ts';
import { IMPORT_MARKER, importGoAgentState } from '../../src/migrate/import-go.ts';

const dirs: string[] = [];
const stores: AgentDatastore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const now = new Date('2026-12-07T00:00:00Z');
const web0 = { Name: 'web-0', Namespace: 'default', Containter: 'c0ffee01', Netns: '/proc/1234/ns/net', IfName: 'eth0', PodIP: '172.22.0.205', VxNet: 'vxnet-abc1234' };
const goRecords: Record<string, unknown> = {
  'vxnet-abc1234': {
    Nic: { VxNet: { ID: 'vxnet-abc1234', Gateway: '172.22.0.1', Network: '172.22.0.0/24', TunnelType: 'vxlan' }, ID: '52:54:9e:d0:dd:96', RouteTableNum: 260, Phase: 4 },
    Pods: { c0ffee01: web0, c0ffee02: { ...web0, Name: 'web-1', Containter: 'c0ffee02', PodIP: '172.22.0.206' } },
  },
  // Created and attached but never set up: no table, so nothing of it is in the kernel to keep.
  'vxnet-def5678': { Nic: { VxNet: { ID: 'vxnet-def5678' }, ID: '52:54:9e:00:00:01' }, Pods: {} },
  'vxnet-bad': { Nic: { ID: 'x', VxNet: { ID: 'vxnet-other' } } },
};

async function goNode(records: Record<string, unknown>): Promise<{ dir: string; store: AgentDatastore }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-goimport-'));
  dirs.push(dir);
  const db = new ClassicLevel<string, string>(dir);
  await db.open();
  for (const [k, v] of Object.entries(records)) await db.put(k, JSON.stringify(v));
  await db.close();
  const store = AgentDatastore.open(join(dir, 'agent'));
  stores.push(store);
  return { dir, store };
}

// web-0's host veth is still in the kernel; web-1's is not (its MAC stays unknown).
const links = (): Promise<ReadonlyMap<string, string>> => Promise.resolve(new Map([[hostVethName('default', 'web-0'), 'aa:bb:cc:00:00:01']]));

describe('importGoAgentState', () => {
  it('keeps each NIC\'s route table and bridge and each pod\'s handle, once', async () => {
    const { dir, store } = await goNode(goRecords);
    const r = await importGoAgentState({ dir, store, links, now: () => now });
    expect(r).toMatchObject({ status: 'imported', nics: 1, pods: 2, tornWrite: false });
    expect(r.skipped.map((s) => s.what)).toEqual(['record "vxnet-bad"', 'NIC 52:54:9e:00:00:01 on vxnet-def5678']);
    const [nic] = await store.listNics();
    expect(nic).toMatchObject({ nicId: '52:54:9e:d0:dd:96', routeTable: 260, bridge: 'br_260', linkName: 'hostnic_abc1234', phase: 'Succeeded' });
    const pods = (await store.listPods()).sort((a, b) => a.podName.localeCompare(b.podName));
    expect(pods.map((p) => [p.podName, p.ip, p.handleId, p.hostVeth, p.hostVethMac])).toEqual([
      ['web-0', '172.22.0.205', 'default-web-0-c0ffee01', hostVethName('default', 'web-0'), 'aa:bb:cc:00:00:01'],
      ['web-1', '172.22.0.206', 'default-web-1-c0ffee02', hostVethName('default', 'web-1'), ''],
    ]);
    expect(JSON.parse(await readFile(join(dir, IMPORT_MARKER), 'utf8'))).toMatchObject({ state: 'done', nics: 1, pods: 2 });
    // The route table is bound: a new NIC gets the next one, never 260 again.
    expect(await store.allocateRouteTable(260)).toBe(261);
    expect((await importGoAgentState({ dir, store, links, now: () => now })).status).toBe('already-done');
  });

  it('redoes an import a crash cut short', async () => {
    const { dir, store } = await goNode(goRecords);
    await importGoAgentState({ dir, store, links, now: () => now });
    await store.deletePod('c0ffee02', 'eth0');
    // As if the agent had been killed after marking the start and writing part of the records.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, IMPORT_MARKER), JSON.stringify({ state: 'started', at: now.toISOString() }));
    expect((await importGoAgentState({ dir, store, links, now: () => now })).pods).toBe(2);
    expect(await store.listPods()).toHaveLength(2);
  });

  it('imports nothing over records of this agent, and nothing where the Go agent never ran', async () => {
    const { dir, store } = await goNode(goRecords);
    await store.putNic({
      nicId: '52:54:9e:11:11:11', vxnet: { vxnetId: 'vxnet-new', network: '10.0.0.0/24', gateway: '10.0.0.1', tunnelType: 'vxlan' },
      routeTable: 260, linkName: 'hostnic_new', bridge: 'br_260', phase: 'Succeeded', createdAt: now.toISOString(),
    });
    expect((await importGoAgentState({ dir, store, links, now: () => now })).status).toBe('not-needed');
    expect(await store.listNics()).toHaveLength(1);
    const empty = await mkdtemp(join(tmpdir(), 'hostnic-goimport-'));
    dirs.push(empty);
    expect((await importGoAgentState({ dir: empty, store, links, now: () => now })).status).toBe('no-database');
  });
});
