import { afterEach, describe, expect, test } from 'vitest';
import { GROUP, VERSION, apiError, field, pod, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.server.close();
  h = undefined;
});

async function seedPods(harness: Harness): Promise<void> {
  const specs: [string, Record<string, string>, string | undefined][] = [
    ['a', { app: 'web', tier: 'front' }, 'node-1'],
    ['b', { app: 'web', tier: 'back' }, 'node-2'],
    ['c', { app: 'db' }, 'node-1'],
    ['d', {}, undefined],
  ];
  for (const [name, labels, nodeName] of specs) {
    await harness.core.createNamespacedPod({ namespace: 'default', body: pod(name, { labels, ...(nodeName ? { nodeName } : {}) }) });
  }
}

async function names(harness: Harness, labelSelector?: string, fieldSelector?: string): Promise<string[]> {
  const list = await harness.core.listNamespacedPod({ namespace: 'default', labelSelector, fieldSelector });
  return list.items.map((p) => p.metadata?.name ?? '');
}

describe('selectors', () => {
  test('label selector operators', async () => {
    h = await startHarness();
    await seedPods(h);
    expect(await names(h, 'app=web')).toEqual(['a', 'b']);
    expect(await names(h, 'app==web')).toEqual(['a', 'b']);
    expect(await names(h, 'app!=web')).toEqual(['c', 'd']);
    expect(await names(h, 'app in (web, db)')).toEqual(['a', 'b', 'c']);
    expect(await names(h, 'app notin (web)')).toEqual(['c', 'd']);
    expect(await names(h, 'tier')).toEqual(['a', 'b']);
    expect(await names(h, '!tier')).toEqual(['c', 'd']);
    expect(await names(h, 'app=web,tier!=front')).toEqual(['b']);
    expect(await names(h, 'app in (web),!tier')).toEqual([]);
    const bad = await apiError(h.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (web' }));
    expect(bad.code).toBe(400);
  });

  test('field selectors: metadata.name, metadata.namespace, spec.nodeName, status.phase', async () => {
    h = await startHarness();
    await seedPods(h);
    expect(await names(h, undefined, 'spec.nodeName=node-1')).toEqual(['a', 'c']);
    expect(await names(h, undefined, 'spec.nodeName=')).toEqual(['d']);
    expect(await names(h, undefined, 'spec.nodeName!=node-1,metadata.name!=d')).toEqual(['b']);
    expect(await names(h, undefined, 'metadata.name=b')).toEqual(['b']);
    expect(await names(h, 'app=web', 'spec.nodeName==node-2')).toEqual(['b']);
    await h.core.patchNamespacedPodStatus({ namespace: 'default', name: 'c', body: [{ op: 'replace', path: '/status/phase', value: 'Running' }] });
    expect(await names(h, undefined, 'status.phase=Running')).toEqual(['c']);
    const all = await h.core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=default,status.phase=Pending' });
    expect(all.items).toHaveLength(3);
    const unsupported = await apiError(h.core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.containers=x' }));
    expect(unsupported.code).toBe(400);
    expect(unsupported.body['message']).toBe('field label not supported: spec.containers');
    // Custom resources only select on metadata fields.
    expect((await apiError(h.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ippools', fieldSelector: 'spec.type=local' }))).code).toBe(400);
  });
});

describe('paging', () => {
  test('limit and continue walk a consistent snapshot', async () => {
    h = await startHarness();
    for (let i = 0; i < 7; i++) {
      h.server.put('ipamblocks', { metadata: { name: `4100-172-16-3-${i * 32}-27` }, spec: { id: 4100 } });
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    let listRv: string | undefined;
    do {
      const page = await h.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamblocks', limit: 3, _continue: token });
      pages++;
      const items = field(page, 'items');
      if (!Array.isArray(items)) throw new Error('items');
      seen.push(...items.map((item) => String(field(item, 'metadata.name'))));
      listRv ??= String(field(page, 'metadata.resourceVersion'));
      expect(field(page, 'metadata.resourceVersion')).toBe(listRv);
      const next = field(page, 'metadata.continue');
      token = typeof next === 'string' && next !== '' ? next : undefined;
      if (pages === 1) {
        expect(field(page, 'metadata.remainingItemCount')).toBe(4);
        // Changes after the first page do not show up in later pages.
        h.server.put('ipamblocks', { metadata: { name: '4100-172-16-3-99-27' }, spec: { id: 4100 } });
        h.server.delete('ipamblocks', '4100-172-16-3-64-27');
      }
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual([...Array.from({ length: 7 }, (_, i) => `4100-172-16-3-${i * 32}-27`)].sort());
  });

  test('a continue token older than the kept window is 410 Expired', async () => {
    h = await startHarness({ watchWindow: 2 });
    for (const name of ['a', 'b', 'c']) await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    const first = await h.core.listNamespacedConfigMap({ namespace: 'default', limit: 1 });
    expect(first.metadata?._continue).toBeTruthy();
    for (const name of ['d', 'e', 'f']) await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
    const error = await apiError(h.core.listNamespacedConfigMap({ namespace: 'default', limit: 1, _continue: first.metadata?._continue }));
    expect(error.code).toBe(410);
    expect(error.body['reason']).toBe('Expired');
  });

  test('paging with a label selector', async () => {
    h = await startHarness();
    for (let i = 0; i < 6; i++) {
      await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${i}`, labels: { even: String(i % 2 === 0) } } } });
    }
    const first = await h.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'even=true', limit: 2 });
    expect(first.items.map((c) => c.metadata?.name)).toEqual(['cm-0', 'cm-2']);
    const second = await h.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'even=true', limit: 2, _continue: first.metadata?._continue });
    expect(second.items.map((c) => c.metadata?.name)).toEqual(['cm-4']);
    expect(second.metadata?._continue).toBeUndefined();
  });
});
