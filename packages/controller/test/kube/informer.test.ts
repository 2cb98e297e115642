import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { InformerStoppedError, SyncAbortedError } from '@hostnic/runtime/kube';
import { Informer } from '@hostnic/runtime/kube';
import type { InformerEvent } from '@hostnic/runtime/kube';
import { configMapInformer, customResourceInformer, namespaceInformer, podInformer } from '@hostnic/runtime/kube';
import type { CustomObject } from '@hostnic/runtime/kube';
import { delay, eventually, startKube } from './harness.ts';
import type { Kube } from './harness.ts';

const GROUP = 'network.qingcloud.com';
const VERSION = 'v1alpha1';
const IPPOOLS = { group: GROUP, version: VERSION, plural: 'ippools' };
const FAST = { baseMs: 10, maxMs: 50 };

let kube: Kube | undefined;
const informers: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const informer of informers.splice(0)) await informer.stop();
  await kube?.server.close();
  kube = undefined;
});

function ippool(name: string, cidr = '10.0.0.0/24') {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPPool', metadata: { name }, spec: { cidr } };
}

function record<T extends KubernetesObject>(informer: Informer<T>): string[] {
  const seen: string[] = [];
  informers.push(informer);
  informer.onEvent((e) => seen.push(`${e.type}:${e.object.metadata?.name ?? ''}`));
  return seen;
}

function ippools(k: Kube, resyncMs = 0) {
  return customResourceInformer(k.kubeConfig, IPPOOLS, { resyncMs, backoff: FAST });
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
    // Metadata is typed and deserialized the same way for listed and watched objects.
    expect(informer.get('before')?.metadata.creationTimestamp).toBeInstanceOf(Date);

    const api = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await api.createClusterCustomObject({ ...IPPOOLS, body: ippool('p1') });
    await eventually(() => informer.get('p1') !== undefined, 'p1 in the cache');
    expect(informer.get('p1')?.metadata.creationTimestamp).toBeInstanceOf(Date);
    const current = informer.get('p1');
    await api.replaceClusterCustomObject({ ...IPPOOLS, name: 'p1', body: { ...current, spec: { cidr: '10.0.1.0/24' } } });
    await eventually(() => updates.length === 1, 'the update');
    expect(updates[0]?.old?.spec).toEqual({ cidr: '10.0.0.0/24' });
    expect(updates[0]?.object.spec).toEqual({ cidr: '10.0.1.0/24' });
    await api.deleteClusterCustomObject({ ...IPPOOLS, name: 'p1' });
    await eventually(() => informer.get('p1') === undefined, 'p1 gone');
    expect(seen).toEqual(['add:before', 'add:p1', 'update:p1', 'delete:p1']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['before']);
    expect(informer.stats).toMatchObject({ lists: 1, errors: 0 });
  });

  test('typed informers: namespaces with Dates from list and watch, pods by namespace, one ConfigMap', async () => {
    kube = await startKube();
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    const namespaces = namespaceInformer(kube.kubeConfig, { resyncMs: 0, backoff: FAST });
    const pods = podInformer(kube.kubeConfig, { resyncMs: 0, backoff: FAST });
    const config = configMapInformer(kube.kubeConfig, 'kube-system', 'hostnic', { resyncMs: 0, backoff: FAST });
    const configSeen = record(config);
    informers.push(namespaces, pods);
    for (const informer of [namespaces, pods, config]) informer.start();
    await Promise.all([namespaces.synced(), pods.synced(), config.synced()]);
    expect(namespaces.get('kube-system')?.metadata?.creationTimestamp).toBeInstanceOf(Date);

    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.createNamespacedPod({ namespace: 'team-a', body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'db' }, spec: { containers: [{ name: 'c', image: 'pg' }] } } });
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'other' }, data: { a: '1' } } });
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'hostnic' }, data: { a: '2' } } });
    await eventually(() => pods.list().length === 2 && namespaces.get('team-a') !== undefined && config.list().length === 1, 'all objects');
    expect(namespaces.get('team-a')?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(pods.get('web', 'team-a')?.spec?.containers[0]?.image).toBe('nginx');
    expect(pods.get('web')).toBeUndefined();
    expect(pods.list('default').map((p) => p.metadata?.name)).toEqual(['db']);
    expect(config.get('hostnic', 'kube-system')?.data).toEqual({ a: '2' });
    expect(configSeen).toEqual(['add:hostnic']);
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
    const informer = customResourceInformer(kube.kubeConfig, IPPOOLS, { resyncMs: 0, backoff: { baseMs: 5000, maxMs: 5000 } });
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
    const failing = customResourceInformer(k.kubeConfig, IPPOOLS, { resyncMs: 10, backoff: { baseMs: 10_000, maxMs: 10_000 } });
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
    const informer = new Informer<CustomObject>({
      name: 'raw ippools',
      kubeConfig: kube.kubeConfig,
      path: `/apis/${GROUP}/${VERSION}/ippools`,
      resyncMs: 0,
      list: async () => {
        const api = kube?.kubeConfig.makeApiClient(CustomObjectsApi);
        const raw = (await api?.listClusterCustomObject(IPPOOLS)) as { items: CustomObject[]; metadata?: { resourceVersion?: string } };
        return raw;
      },
    });
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
