import { CoreV1Api, KubeConfig, Watch, makeInformer } from '@kubernetes/client-node';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from 'vitest';
import { GROUP, VERSION, eventually, field, isRecord, mergePatch, pod, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await h?.server.close();
  h = undefined;
});

const BLOCKS_PATH = `/apis/${GROUP}/${VERSION}/ipamblocks`;

interface Seen {
  type: string;
  name: string;
  rv: string;
  object: unknown;
}

/** Starts a client-node Watch and collects what arrives. */
async function watch(harness: Harness, path: string, query: Record<string, string | number | boolean>) {
  const seen: Seen[] = [];
  let resolveDone: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => {
    resolveDone = resolve;
  });
  const controller = await new Watch(harness.kc).watch(path, query, (type, obj: unknown) => {
    seen.push({ type, name: String(field(obj, 'metadata.name') ?? ''), rv: String(field(obj, 'metadata.resourceVersion') ?? ''), object: obj });
  }, (err) => resolveDone(err));
  cleanups.push(() => controller.abort());
  return { seen, done };
}

function block(name: string, labels: Record<string, string> = {}) {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMBlock', metadata: { name, labels }, spec: { id: 4100 } };
}

describe('Watch', () => {
  test('ADDED, MODIFIED, DELETED arrive in order after the listed resourceVersion', async () => {
    h = await startHarness();
    h.server.put('ipamblocks', block('before'));
    const list = await h.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks' });
    const w = await watch(h, BLOCKS_PATH, { resourceVersion: String(field(list, 'metadata.resourceVersion')) });
    await h.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks', body: block('b1') });
    await h.custom.patchClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks', name: 'b1', body: { spec: { deleted: true } } }, mergePatch);
    await h.custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks', name: 'b1' });
    await eventually(() => w.seen.length === 3, 20_000, 'three events');
    expect(w.seen.map((e) => [e.type, e.name])).toEqual([['ADDED', 'b1'], ['MODIFIED', 'b1'], ['DELETED', 'b1']]);
    const rvs = w.seen.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(field(w.seen[1]?.object, 'spec.deleted')).toBe(true);
    expect(field(w.seen[0]?.object, 'kind')).toBe('IPAMBlock');
  });

  test('without a resourceVersion every current object arrives as ADDED first', async () => {
    h = await startHarness();
    h.server.put('ipamblocks', block('x'));
    h.server.put('ipamblocks', block('y'));
    const w = await watch(h, BLOCKS_PATH, {});
    h.server.put('ipamblocks', block('z'));
    await eventually(() => w.seen.length === 3);
    expect(w.seen.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:x', 'ADDED:y', 'ADDED:z']);
  });

  test('resuming from a resourceVersion replays what happened since', async () => {
    h = await startHarness();
    h.server.put('ipamblocks', block('a'));
    const from = h.server.resourceVersion();
    h.server.put('ipamblocks', block('b'));
    h.server.put('ipamblocks', { ...block('a'), spec: { id: 1 } });
    h.server.delete('ipamblocks', 'b');
    const w = await watch(h, BLOCKS_PATH, { resourceVersion: from });
    await eventually(() => w.seen.length === 3);
    expect(w.seen.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:b', 'MODIFIED:a', 'DELETED:b']);
  });

  test('a resourceVersion older than the window gets an ERROR event with a 410 Expired Status', async () => {
    h = await startHarness({ watchWindow: 3 });
    const from = h.server.resourceVersion();
    for (let i = 0; i < 5; i++) h.server.put('ipamblocks', block(`b${i}`));
    const w = await watch(h, BLOCKS_PATH, { resourceVersion: from });
    expect(await w.done).toBeNull();
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]?.type).toBe('ERROR');
    expect(w.seen[0]?.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(String(field(w.seen[0]?.object, 'message'))).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  test('selectors: objects entering and leaving the selection arrive as ADDED and DELETED', async () => {
    h = await startHarness();
    h.server.put('ipamblocks', block('b', { 'ippool.network.qingcloud.com/name': 'other' }));
    const w = await watch(h, BLOCKS_PATH, { resourceVersion: h.server.resourceVersion(), labelSelector: 'ippool.network.qingcloud.com/name=vxnet-abc1234' });
    h.server.put('ipamblocks', block('b', { 'ippool.network.qingcloud.com/name': 'vxnet-abc1234' }));
    h.server.put('ipamblocks', { ...block('b', { 'ippool.network.qingcloud.com/name': 'vxnet-abc1234' }), spec: { id: 2 } });
    h.server.put('ipamblocks', block('b', { 'ippool.network.qingcloud.com/name': 'other' }));
    h.server.put('ipamblocks', block('unrelated'));
    await eventually(() => w.seen.length === 3);
    expect(w.seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  test('field selectors on pods by node, across namespaces', async () => {
    h = await startHarness();
    const w = await watch(h, '/api/v1/pods', { fieldSelector: 'spec.nodeName=node-1' });
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('mine', { nodeName: 'node-1' }) });
    await h.core.createNamespacedPod({ namespace: 'kube-system', body: pod('theirs', { nodeName: 'node-2' }) });
    await h.core.createNamespacedPod({ namespace: 'kube-system', body: pod('also-mine', { nodeName: 'node-1' }) });
    await eventually(() => w.seen.length === 2);
    expect(w.seen.map((e) => e.name)).toEqual(['mine', 'also-mine']);
  });

  test('bookmarks carry the current resourceVersion when allowed', async () => {
    h = await startHarness({ bookmarkIntervalMs: 30 });
    const w = await watch(h, BLOCKS_PATH, { resourceVersion: h.server.resourceVersion(), allowWatchBookmarks: true });
    h.server.put('configmaps', { metadata: { name: 'elsewhere', namespace: 'default' } });
    await eventually(() => w.seen.some((e) => e.type === 'BOOKMARK' && e.rv === h?.server.resourceVersion()), 20_000, 'a bookmark');
    const bookmark = w.seen.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toEqual({ kind: 'IPAMBlock', apiVersion: `${GROUP}/${VERSION}`, metadata: { resourceVersion: bookmark?.rv } });
    const quiet = await watch(h, BLOCKS_PATH, { resourceVersion: h.server.resourceVersion() });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(quiet.seen).toHaveLength(0);
  });

  test('timeoutSeconds ends the stream cleanly', async () => {
    h = await startHarness();
    const started = Date.now();
    const w = await watch(h, BLOCKS_PATH, { timeoutSeconds: 1 });
    expect(await w.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('close() ends open watches cleanly', async () => {
    h = await startHarness();
    const w1 = await watch(h, BLOCKS_PATH, {});
    const w2 = await watch(h, '/api/v1/namespaces/default/pods', { allowWatchBookmarks: true });
    expect(h.server.activeWatches).toBe(2);
    await h.server.close();
    expect(await w1.done).toBeNull();
    expect(await w2.done).toBeNull();
    expect(h.server.activeWatches).toBe(0);
  });
});

describe('informer', () => {
  function podInformer(harness: Harness) {
    const core = harness.kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(harness.kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const log: string[] = [];
    informer.on('add', (p) => log.push(`add:${p.metadata?.name}`));
    informer.on('update', (p) => log.push(`update:${p.metadata?.name}:${p.metadata?.labels?.['v'] ?? ''}`));
    informer.on('delete', (p) => log.push(`delete:${p.metadata?.name}`));
    informer.on('error', (err: unknown) => log.push(`error:${String(err)}`));
    cleanups.push(() => informer.stop());
    return { informer, log };
  }

  test('makeInformer lists, then follows ADDED/MODIFIED/DELETED in order', async () => {
    h = await startHarness();
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('existing') });
    const { informer, log } = podInformer(h);
    await informer.start();
    await eventually(() => h?.server.activeWatches === 1, 20_000, 'the informer watch');
    expect(log).toEqual(['add:existing']);
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('new') });
    await h.core.patchNamespacedPod({ namespace: 'default', name: 'new', body: { metadata: { labels: { v: '2' } } } }, mergePatch);
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'existing' });
    await eventually(() => log.length === 4);
    expect(log).toEqual(['add:existing', 'add:new', 'update:new:2', 'delete:existing']);
    expect(informer.list().map((p: KubernetesObject) => p.metadata?.name)).toEqual(['new']);
  });

  test('a watch that ends is resumed from the last resourceVersion without relisting', async () => {
    h = await startHarness();
    const { informer, log } = podInformer(h);
    await informer.start();
    await eventually(() => h?.server.activeWatches === 1);
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('a') });
    await eventually(() => log.length === 1);
    const rvBefore = h.server.resourceVersion();
    expect(h.server.endWatches({ resource: 'pods' })).toBe(1);
    await eventually(() => h?.server.activeWatches === 1 && h.server.requestLog({ verb: 'watch', resource: 'pods' }).length === 2, 20_000, 'the reconnect');
    const watches = h.server.requestLog({ verb: 'watch', resource: 'pods' });
    expect(new URLSearchParams(watches[1]?.query).get('resourceVersion')).toBe(rvBefore);
    expect(h.server.requestLog({ verb: 'list', resource: 'pods' })).toHaveLength(1);
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('b') });
    await eventually(() => log.length === 2);
    expect(log).toEqual(['add:a', 'add:b']);
  });

  test('410 Gone on reconnect makes the informer relist and reconcile', async () => {
    h = await startHarness();
    const server = h.server;
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('stays') });
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('goes') });
    const { informer, log } = podInformer(h);
    await informer.start();
    await eventually(() => server.activeWatches === 1);
    // Hold the reconnect while history moves on and is compacted away.
    const undelay = server.faults.delay({ verb: 'watch', resource: 'pods' }, 150);
    server.endWatches();
    await eventually(() => server.requestLog({ verb: 'watch' }).length === 2, 20_000, 'the reconnect attempt');
    server.put('pods', { ...pod('arrived'), metadata: { name: 'arrived', namespace: 'default' } });
    server.delete('pods', 'goes', 'default');
    server.compact();
    await eventually(() => server.requestLog({ verb: 'list', resource: 'pods' }).length === 2, 20_000, 'the relist');
    undelay();
    await eventually(() => log.length === 4, 20_000, 'reconciliation');
    expect(log.slice(2).sort()).toEqual(['add:arrived', 'delete:goes']);
    expect(informer.list().map((p: KubernetesObject) => p.metadata?.name).sort()).toEqual(['arrived', 'stays']);
    expect(log.some((l) => l.startsWith('error'))).toBe(false);
    // ...and watches again from the fresh list's resourceVersion.
    await eventually(() => server.requestLog({ verb: 'watch' }).length === 3 && server.activeWatches === 1, 20_000, 'the new watch');
    const third = server.requestLog({ verb: 'watch' })[2];
    expect(new URLSearchParams(third?.query).get('resourceVersion')).toBe(server.resourceVersion());
  });

  test('an informer over a custom resource with a label selector', async () => {
    h = await startHarness();
    const kc = new KubeConfig();
    kc.loadFromOptions(h.server.kubeConfig());
    const custom = h.custom;
    const selector = 'ippool.network.qingcloud.com/name=vxnet-abc1234';
    const informer = makeInformer<KubernetesObject>(kc, BLOCKS_PATH, async () => {
      const list: unknown = await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks', labelSelector: selector });
      const items = field(list, 'items');
      if (!Array.isArray(items)) throw new Error('list shape');
      return { items: items.filter(isRecord), metadata: { resourceVersion: String(field(list, 'metadata.resourceVersion')) } };
    }, selector);
    cleanups.push(() => informer.stop());
    const names: string[] = [];
    informer.on('add', (o) => names.push(o.metadata?.name ?? ''));
    await informer.start();
    h.server.put('ipamblocks', block('4100-172-16-3-0-27', { 'ippool.network.qingcloud.com/name': 'vxnet-abc1234' }));
    h.server.put('ipamblocks', block('4100-172-16-4-0-27', { 'ippool.network.qingcloud.com/name': 'vxnet-other' }));
    await eventually(() => names.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(names).toEqual(['4100-172-16-3-0-27']);
  });
});
