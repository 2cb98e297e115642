/**
 * The informer the controller's caches are made of (runtime's KubeInformer on the lean client) and the
 * controller's own set of them, against the fake apiserver: list, watch, resume, relist after 410, stop.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { InformerStoppedError, KubeInformer, SyncAbortedError } from '@hostnic/runtime/kube/http';
import type { Backoff, InformerEvent, KubeObject } from '@hostnic/runtime/kube/http';
import { controllerInformers, informerList } from '../../src/daemon/informers.ts';
import type { CustomObject } from '../../src/kube/objects.ts';
import { delay, eventually, startKube } from './harness.ts';
import type { Kube } from './harness.ts';

const GROUP = 'network.qingcloud.com';
const VERSION = 'v1alpha1';
const IPPOOLS = `/apis/${GROUP}/${VERSION}/ippools`;
const FAST = { baseMs: 10, maxMs: 50 };

let kube: Kube | undefined;
const informers: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const informer of informers.splice(0)) await informer.stop();
  await kube?.close();
  kube = undefined;
});

function ippool(name: string, cidr = '10.0.0.0/24') {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPPool', metadata: { name }, spec: { cidr } };
}

function record<T extends KubeObject>(informer: KubeInformer<T>): string[] {
  const seen: string[] = [];
  informers.push(informer);
  informer.onEvent((e) => seen.push(`${e.type}:${e.object.metadata?.name ?? ''}`));
  return seen;
}

function ippools(k: Kube, resyncMs = 0, backoff: Backoff = FAST): KubeInformer<CustomObject> {
  return new KubeInformer<CustomObject>({ name: 'ippools', client: k.client, path: IPPOOLS, resyncMs, backoff });
}

describe('Informer', () => {
  test('lists, then delivers add, update (with the old object) and delete from the watch', async () => {
    kube = await startKube();
    kube.server.put('ippools', ippool('before'));
    const informer = ippools(kube);
    const seen = record(informer);
    const updates: InformerEvent<CustomObject>[] = [];
    informer.onEvent((e) => {
      if (e.type === 'update') updates.push(e);
    });
    informer.start();
    await informer.synced();
    expect(informer.hasSynced).toBe(true);
    expect(seen).toEqual(['add:before']);
    expect(informer.get('before')?.spec).toEqual({ cidr: '10.0.0.0/24' });
    // Objects stay the apiserver's JSON, listed or watched alike: timestamps are RFC 3339 text.
    expect(informer.get('before')?.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);

    const api = kube.client;
    await api.create(IPPOOLS, ippool('p1'));
    await eventually(() => informer.get('p1') !== undefined, 'p1 in the cache');
    expect(informer.get('p1')?.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const current = informer.get('p1');
    await api.replace(`${IPPOOLS}/p1`, { ...current, spec: { cidr: '10.0.1.0/24' } });
    await eventually(() => updates.length === 1, 'the update');
    expect(updates[0]?.old?.spec).toEqual({ cidr: '10.0.0.0/24' });
    expect(updates[0]?.object.spec).toEqual({ cidr: '10.0.1.0/24' });
    await api.delete(`${IPPOOLS}/p1`);
    await eventually(() => informer.get('p1') === undefined, 'p1 gone');
    expect(seen).toEqual(['add:before', 'add:p1', 'update:p1', 'delete:p1']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['before']);
    expect(informer.stats).toMatchObject({ lists: 1, errors: 0 });
  });

  test('the controller\'s caches: namespaces, pods by namespace and node, one ConfigMap each, the CRDs', async () => {
    kube = await startKube();
    const api = kube.client;
    const caches = controllerInformers(api, { resyncMs: 0, backoff: FAST });
    const configSeen = record(caches.ipamConfig);
    const all = informerList(caches);
    informers.push(...all);
    for (const informer of all) informer.start();
    await Promise.all(all.map((i) => i.synced()));
    expect(caches.namespaces.get('kube-system')?.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);

    await api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const pod = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }] } });
    await api.create('/api/v1/namespaces/team-a/pods', pod('web', 'node-1'));
    await api.create('/api/v1/namespaces/default/pods', pod('db', 'node-2'));
    const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
    await api.create('/api/v1/namespaces/kube-system/configmaps', configMap('other', { a: '1' }));
    await api.create('/api/v1/namespaces/kube-system/configmaps', configMap('hostnic-ipam-config', { a: '2' }));
    await api.create(IPPOOLS, ippool('p1'));
    await eventually(() => caches.pods.list().length === 2 && caches.namespaces.get('team-a') !== undefined && caches.ipamConfig.list().length === 1 && caches.ippools.list().length === 1, 'all objects');
    expect(caches.pods.get('web', 'team-a')?.spec?.nodeName).toBe('node-1');
    expect(caches.pods.get('web')).toBeUndefined();
    expect(caches.pods.list('default').map((p) => p.metadata?.name)).toEqual(['db']);
    expect(caches.ipamConfig.get('hostnic-ipam-config', 'kube-system')?.data).toEqual({ a: '2' });
    expect(caches.clusterConfig.list()).toEqual([]);
    expect(configSeen).toEqual(['add:hostnic-ipam-config']);
  });

  test('resync re-delivers every cached object without relisting', async () => {
    kube = await startKube();
    kube.server.put('ippools', ippool('a'));
    kube.server.put('ippools', ippool('b'));
    const informer = ippools(kube, 20);
    const seen = record(informer);
    informer.start();
    await informer.synced();
    await eventually(() => seen.filter((s) => s.startsWith('resync:')).length >= 4, 'two resync rounds');
    expect(new Set(seen.filter((s) => s.startsWith('resync:')))).toEqual(new Set(['resync:a', 'resync:b']));
    expect(informer.stats.lists).toBe(1);
  });

  test('a watch ended by the server is resumed from its resourceVersion without losing events', async () => {
    kube = await startKube();
    const k = kube;
    const informer = ippools(k);
    const seen = record(informer);
    informer.start();
    await informer.synced();
    await eventually(() => k.server.activeWatches === 1, 'the watch');
    for (let round = 0; round < 3; round++) {
      // Changes made in the same tick as the cut can only reach the informer through the resumed watch.
      expect(k.server.endWatches()).toBe(1);
      k.server.put('ippools', ippool(`p${round}`));
      k.server.put('ippools', ippool(`p${round}`, '10.9.0.0/24'));
      await eventually(() => informer.get(`p${round}`)?.spec !== undefined && k.server.activeWatches === 1, `round ${round}`);
    }
    await eventually(() => seen.length === 6, 'six events');
    expect(seen).toEqual(['add:p0', 'update:p0', 'add:p1', 'update:p1', 'add:p2', 'update:p2']);
    expect(informer.get('p2')?.spec).toEqual({ cidr: '10.9.0.0/24' });
    expect(informer.stats).toMatchObject({ lists: 1, errors: 0 });
    const watches = k.server.requestLog({ verb: 'watch' });
    expect(watches.length).toBe(4);
    expect(watches.slice(1).every((w) => /resourceVersion=[1-9]/.test(w.query))).toBe(true);
  });

  test('after compaction (410 Gone) the relist delivers deletes that happened while disconnected', async () => {
    kube = await startKube();
    const k = kube;
    k.server.put('ippools', ippool('stays'));
    k.server.put('ippools', ippool('goes'));
    k.server.put('ippools', ippool('changes'));
    const informer = ippools(k);
    const seen = record(informer);
    informer.start();
    await informer.synced();
    await eventually(() => k.server.activeWatches === 1, 'the watch');
    k.server.endWatches();
    k.server.delete('ippools', 'goes');
    k.server.put('ippools', ippool('changes', '10.7.0.0/24'));
    k.server.put('ippools', ippool('new'));
    k.server.compact();
    await eventually(() => informer.stats.lists === 2 && k.server.activeWatches === 1, 'the relist');
    await eventually(() => seen.length === 6, 'relist events');
    expect(new Set(seen.slice(3))).toEqual(new Set(['delete:goes', 'update:changes', 'add:new']));
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['changes', 'new', 'stays']);
    expect(informer.stats.errors).toBe(0);
  });

  test('a failing first list is retried with backoff until the informer syncs', async () => {
    kube = await startKube();
    kube.server.put('ippools', ippool('a'));
    kube.server.faults.failNext('list', 'ippools', 500, 3);
    const informer = ippools(kube);
    record(informer);
    informer.start();
    await informer.synced();
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['a']);
    expect(informer.stats).toMatchObject({ lists: 1, errors: 3 });
    expect(informer.stats.lastError).toMatch(/500/);
    expect(kube.server.requestLog({ verb: 'list', resource: 'ippools' }).length).toBe(4);
  });

  test('a failing watch is restarted without a relist', async () => {
    kube = await startKube();
    const k = kube;
    const informer = ippools(k);
    record(informer);
    informer.start();
    await informer.synced();
    await eventually(() => k.server.activeWatches === 1, 'the watch');
    k.server.faults.failNext('watch', 'ippools', 503, 2);
    k.server.endWatches();
    k.server.put('ippools', ippool('later'));
    await eventually(() => informer.get('later') !== undefined, 'the object after the restarts');
    expect(informer.stats).toMatchObject({ lists: 1, errors: 2 });
  });

  test('synced() rejects on abort and after stop', async () => {
    kube = await startKube();
    kube.server.faults.fail({ verb: 'list', resource: 'ippools' }, 500);
    const informer = ippools(kube, 0, { baseMs: 5000, maxMs: 5000 });
    informer.start();
    const controller = new AbortController();
    const aborted = informer.synced(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(SyncAbortedError);
    const pending = informer.synced();
    await informer.stop();
    await expect(pending).rejects.toBeInstanceOf(InformerStoppedError);
    expect(() => informer.start()).toThrow(InformerStoppedError);
  });

  test('stop() closes the watch, cancels a pending restart and is idempotent', async () => {
    kube = await startKube();
    const k = kube;
    const informer = ippools(k, 10);
    informer.start();
    await informer.synced();
    await eventually(() => k.server.activeWatches === 1, 'the watch');
    await informer.stop();
    await informer.stop();
    await eventually(() => k.server.activeWatches === 0, 'the watch to close');

    // Stopped while the restart timer is pending.
    k.server.faults.fail({ verb: 'list', resource: 'ippools' }, 500);
    const failing = ippools(k, 10, { baseMs: 10_000, maxMs: 10_000 });
    failing.start();
    await eventually(() => failing.stats.errors === 1, 'the first failure');
    await failing.stop();
    k.server.faults.clear();

    // Stopped while its watch request is still connecting: the late stream must be closed at once.
    k.server.faults.delay({ verb: 'watch', resource: 'ippools' }, 100);
    const connecting = ippools(k);
    connecting.start();
    await connecting.synced();
    await connecting.stop();
    await delay(150);
    await eventually(() => k.server.activeWatches === 0, 'no watch after stop');
    const requests = k.server.requestLog().length;
    await delay(50);
    expect(k.server.requestLog().length).toBe(requests);
  });

  test('a throwing handler does not stop the others; unsubscribe works', async () => {
    kube = await startKube();
    kube.server.put('ippools', ippool('a'));
    const informer = ippools(kube);
    informers.push(informer);
    informer.onEvent(() => {
      throw new Error('handler bug');
    });
    const seen: string[] = [];
    const unsubscribe = informer.onEvent((e) => seen.push(e.object.metadata.name ?? ''));
    informer.start();
    await informer.synced();
    expect(seen).toEqual(['a']);
    unsubscribe();
    kube.server.put('ippools', ippool('b'));
    await eventually(() => informer.get('b') !== undefined, 'b');
    expect(seen).toEqual(['a']);
  });

  test('stopped informers leave nothing that keeps the process alive', async () => {
    const script = fileURLToPath(new URL('./fixtures/informers-then-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@hostnic/source', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Generous: only a process that hangs gets here, and it would hang for a minute (the longest backoff).
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(output).toBe('stopped\n');
    expect(code).toBe(0);
  });
});
