import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { GROUP, VERSION, apiError, field, isRecord, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.server.close();
  h = undefined;
});

const blocks = { group: GROUP, version: VERSION, plural: 'ipamblocks' };

function block(name: string, count: number) {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMBlock', metadata: { name }, spec: { id: 4100, cidr: '172.16.3.0/27', count } };
}

test('an update carrying a stale resourceVersion is a 409 Conflict ApiException', async () => {
  h = await startHarness();
  await h.custom.createClusterCustomObject({ ...blocks, body: block('4100-172-16-3-0-27', 0) });
  const first = await h.custom.getClusterCustomObject({ ...blocks, name: '4100-172-16-3-0-27' });
  const second = structuredClone(first);
  if (!isRecord(first) || !isRecord(first['spec']) || !isRecord(second) || !isRecord(second['spec'])) throw new Error('shape');
  first['spec']['count'] = 1;
  await h.custom.replaceClusterCustomObject({ ...blocks, name: '4100-172-16-3-0-27', body: first });
  second['spec']['count'] = 2;
  const error = await apiError(h.custom.replaceClusterCustomObject({ ...blocks, name: '4100-172-16-3-0-27', body: second }));
  expect(error.code).toBe(409);
  expect(error.body).toMatchObject({
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on ipamblocks.network.qingcloud.com "4100-172-16-3-0-27": the object has been modified; please apply your changes to the latest version and try again',
    details: { name: '4100-172-16-3-0-27', group: GROUP, kind: 'ipamblocks' },
  });
  expect(field(await h.custom.getClusterCustomObject({ ...blocks, name: '4100-172-16-3-0-27' }), 'spec.count')).toBe(1);
});

// Every lost compare-and-swap costs a read and a write more; on a loaded 2-core machine the default 30 s is
// not enough, and a timeout says nothing about the server's correctness.
test('concurrent compare-and-swap increments from many clients end with the exact count', { timeout: 120_000 }, async () => {
  h = await startHarness();
  const harness = h;
  await harness.custom.createClusterCustomObject({ ...blocks, body: block('counter', 0) });
  const clients = Array.from({ length: 8 }, () => {
    const kc = new KubeConfig();
    kc.loadFromString(harness.server.kubeconfig());
    return kc.makeApiClient(CustomObjectsApi);
  });
  const perClient = 6;
  let conflicts = 0;
  async function increment(api: CustomObjectsApi): Promise<void> {
    for (;;) {
      const current = await api.getClusterCustomObject({ ...blocks, name: 'counter' });
      if (!isRecord(current) || !isRecord(current['spec']) || typeof current['spec']['count'] !== 'number') throw new Error('shape');
      current['spec']['count'] += 1;
      try {
        await api.replaceClusterCustomObject({ ...blocks, name: 'counter', body: current });
        return;
      } catch (error) {
        if (isRecord(error) && error['code'] === 409) {
          conflicts++;
          continue;
        }
        throw error;
      }
    }
  }
  await Promise.all(clients.map(async (api) => {
    for (let i = 0; i < perClient; i++) await increment(api);
  }));
  const final = await harness.custom.getClusterCustomObject({ ...blocks, name: 'counter' });
  expect(field(final, 'spec.count')).toBe(clients.length * perClient);
  expect(field(final, 'metadata.generation')).toBe(clients.length * perClient + 1);
  expect(conflicts).toBeGreaterThan(0);
  expect(harness.server.requestLog({ verb: 'update', resource: 'ipamblocks', status: 409 })).toHaveLength(conflicts);
  // Every request is a new TLS connection (client-node's agent does not keep connections alive): slow on a busy machine.
});

test('custom resources refuse a PUT without resourceVersion (422); built-ins accept it', async () => {
  h = await startHarness();
  await h.custom.createClusterCustomObject({ ...blocks, body: block('b', 0) });
  const error = await apiError(h.custom.replaceClusterCustomObject({ ...blocks, name: 'b', body: block('b', 5) }));
  expect(error.code).toBe(422);
  expect(field(error.body, 'details.causes')).toEqual([{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);

  await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' }, data: { a: '1' } } });
  const replaced = await h.core.replaceNamespacedConfigMap({ namespace: 'default', name: 'c', body: { metadata: { name: 'c' }, data: { a: '2' } } });
  expect(replaced.data).toEqual({ a: '2' });
});

test('an update that changes nothing keeps the resourceVersion; dryRun changes nothing', async () => {
  h = await startHarness();
  const created = await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' }, data: { a: '1' } } });
  const rv = h.server.resourceVersion();
  const same = await h.core.replaceNamespacedConfigMap({ namespace: 'default', name: 'c', body: created });
  expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  expect(h.server.resourceVersion()).toBe(rv);

  const dry = await h.core.replaceNamespacedConfigMap({ namespace: 'default', name: 'c', body: { ...created, data: { a: 'dry' } }, dryRun: 'All' });
  expect(dry.data).toEqual({ a: 'dry' });
  expect(h.server.get('configmaps', 'c', 'default')?.['data']).toEqual({ a: '1' });
  expect(h.server.resourceVersion()).toBe(rv);
});

test('resourceVersions are one global increasing counter across kinds', async () => {
  h = await startHarness();
  const a = await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a' } } });
  const b = await h.custom.createClusterCustomObject({ ...blocks, body: block('b', 0) });
  const c = await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' } } });
  const rvs = [a.metadata?.resourceVersion, field(b, 'metadata.resourceVersion'), c.metadata?.resourceVersion].map(Number);
  expect(rvs[1]).toBe((rvs[0] ?? 0) + 1);
  expect(rvs[2]).toBe((rvs[1] ?? 0) + 1);
  expect(h.server.resourceVersion()).toBe(String(rvs[2]));
});
