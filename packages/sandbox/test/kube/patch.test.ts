import { afterEach, expect, test } from 'vitest';
import { GROUP, VERSION, apiError, field, jsonPatch, mergePatch, pod, startHarness, strategicPatch } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.server.close();
  h = undefined;
});

const pools = { group: GROUP, version: VERSION, plural: 'ippools' };

async function seedPool(harness: Harness): Promise<void> {
  await harness.custom.createClusterCustomObject({
    ...pools,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPPool', metadata: { name: 'vxnet-abc1234', labels: { controller: 'v-pool' } }, spec: { type: 'local', cidr: '172.16.3.0/24', dns: {}, routes: [{ dst: '0.0.0.0/0' }] } },
  });
}

test('merge patch (RFC 7386): objects merge, null deletes, arrays replace', async () => {
  h = await startHarness();
  await seedPool(h);
  const patched = await h.custom.patchClusterCustomObject({
    ...pools, name: 'vxnet-abc1234',
    body: { metadata: { labels: { controller: null, 'ippool.network.qingcloud.com/type': 'local' }, finalizers: ['finalizers.network.qingcloud.com/ippool'] }, spec: { disabled: true, routes: [] } },
  }, mergePatch);
  expect(field(patched, 'metadata.labels')).toEqual({ 'ippool.network.qingcloud.com/type': 'local' });
  expect(field(patched, 'metadata.finalizers')).toEqual(['finalizers.network.qingcloud.com/ippool']);
  expect(field(patched, 'spec')).toEqual({ type: 'local', cidr: '172.16.3.0/24', dns: {}, routes: [], disabled: true });
  expect(field(patched, 'metadata.generation')).toBe(2);
});

test('JSON patch (RFC 6902): add, replace, remove, move, copy, and a failing test op is 422', async () => {
  h = await startHarness();
  await seedPool(h);
  const patched = await h.custom.patchClusterCustomObject({
    ...pools, name: 'vxnet-abc1234',
    body: [
      { op: 'test', path: '/spec/type', value: 'local' },
      { op: 'add', path: '/spec/routes/-', value: { dst: '10.0.0.0/8', gateway: '172.16.3.1' } },
      { op: 'replace', path: '/spec/cidr', value: '172.16.4.0/24' },
      { op: 'copy', from: '/spec/cidr', path: '/spec/previous' },
      { op: 'move', from: '/spec/previous', path: '/spec/moved' },
      { op: 'remove', path: '/spec/dns' },
      { op: 'add', path: '/metadata/labels/a~1b', value: 'x' },
    ],
  }, jsonPatch);
  expect(field(patched, 'spec')).toEqual({ type: 'local', cidr: '172.16.4.0/24', moved: '172.16.4.0/24', routes: [{ dst: '0.0.0.0/0' }, { dst: '10.0.0.0/8', gateway: '172.16.3.1' }] });
  expect(field(patched, 'metadata.labels')).toEqual({ controller: 'v-pool', 'a/b': 'x' });

  const before = h.server.resourceVersion();
  const failed = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: [{ op: 'test', path: '/spec/type', value: 'vlan' }, { op: 'remove', path: '/spec/cidr' }] }, jsonPatch));
  expect(failed.code).toBe(422);
  expect(h.server.resourceVersion()).toBe(before);
  const missing = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: [{ op: 'remove', path: '/spec/nothing' }] }, jsonPatch));
  expect(missing.code).toBe(422);
  const malformed = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: { spec: {} } }, jsonPatch));
  expect(malformed.code).toBe(400);
});

test('a patch that names a stale resourceVersion is a 409; test-and-set through JSON patch', async () => {
  h = await startHarness();
  await seedPool(h);
  const current = await h.custom.getClusterCustomObject({ ...pools, name: 'vxnet-abc1234' });
  const rv = String(field(current, 'metadata.resourceVersion'));
  await h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: { metadata: { resourceVersion: rv }, spec: { blockSize: 27 } } }, mergePatch);
  const stale = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: { metadata: { resourceVersion: rv }, spec: { blockSize: 26 } } }, mergePatch));
  expect(stale.code).toBe(409);
  const staleTest = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, { op: 'replace', path: '/spec/blockSize', value: 26 }] }, jsonPatch));
  expect(staleTest.code).toBe(422);
  const notFound = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'nope', body: {} }, mergePatch));
  expect(notFound.code).toBe(404);
});

test('strategic merge patch works as a merge patch on built-ins and is 415 on custom resources', async () => {
  h = await startHarness();
  await seedPool(h);
  await h.core.createNamespacedPod({ namespace: 'default', body: pod('p', { labels: { a: '1' } }) });
  const patched = await h.core.patchNamespacedPod({ namespace: 'default', name: 'p', body: { metadata: { labels: { b: '2' }, annotations: { 'cni.projectcalico.org/ipAddrs': '["172.16.3.10"]' } } } }, strategicPatch);
  expect(patched.metadata?.labels).toEqual({ a: '1', b: '2' });
  expect(patched.metadata?.annotations?.['cni.projectcalico.org/ipAddrs']).toBe('["172.16.3.10"]');
  const unsupported = await apiError(h.custom.patchClusterCustomObject({ ...pools, name: 'vxnet-abc1234', body: { spec: {} } }, strategicPatch));
  expect(unsupported.code).toBe(415);
  // client-node's default patch content type is JSON patch, so an object body is malformed.
  expect((await apiError(h.core.patchNamespacedPod({ namespace: 'default', name: 'p', body: { metadata: {} } }))).code).toBe(400);
});
