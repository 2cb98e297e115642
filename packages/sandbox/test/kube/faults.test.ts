import { Watch } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { GROUP, VERSION, apiError, field, isRecord, pod, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.server.close();
  h = undefined;
});

const blocks = { group: GROUP, version: VERSION, plural: 'ipamblocks' };

test('conflictOn: every block UPDATE answers 409 until lifted, and nothing is written', async () => {
  h = await startHarness();
  h.server.put('ipamblocks', { metadata: { name: 'b' }, spec: { n: 0 } });
  const lift = h.server.faults.conflictOn({ verb: 'update', resource: 'ipamblocks' });
  const current = await h.custom.getClusterCustomObject({ ...blocks, name: 'b' });
  if (!isRecord(current)) throw new Error('shape');
  for (let i = 0; i < 3; i++) {
    const error = await apiError(h.custom.replaceClusterCustomObject({ ...blocks, name: 'b', body: { ...current, spec: { n: i + 1 } } }));
    expect(error.code).toBe(409);
    expect(error.body).toMatchObject({ reason: 'Conflict', details: { name: 'b', group: GROUP, kind: 'ipamblocks' } });
  }
  expect(h.server.get('ipamblocks', 'b')?.['spec']).toEqual({ n: 0 });
  // Other verbs and kinds are untouched.
  await h.custom.createClusterCustomObject({ ...blocks, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMBlock', metadata: { name: 'c' } } });
  lift();
  const ok = await h.custom.replaceClusterCustomObject({ ...blocks, name: 'b', body: { ...current, spec: { n: 9 } } });
  expect(field(ok, 'spec.n')).toBe(9);
});

test('conflictOn with a predicate and a count', async () => {
  h = await startHarness();
  h.server.put('ipamhandles', { metadata: { name: 'h1' }, spec: { block: {} } });
  h.server.put('ipamhandles', { metadata: { name: 'h2' }, spec: { block: {} } });
  h.server.faults.conflictOn((info) => info.verb === 'update' && info.name === 'h1' && field(info.body, 'spec.deleted') === true, { times: 1 });
  const h1 = await h.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'h1' });
  if (!isRecord(h1)) throw new Error('shape');
  const api = { group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'h1' };
  expect((await apiError(h.custom.replaceClusterCustomObject({ ...api, body: { ...h1, spec: { deleted: true } } }))).code).toBe(409);
  await h.custom.replaceClusterCustomObject({ ...api, body: { ...h1, spec: { deleted: true } } });
});

test('failNext: the next pod GET answers 500, the one after succeeds', async () => {
  h = await startHarness();
  await h.core.createNamespacedPod({ namespace: 'default', body: pod('p') });
  h.server.faults.failNext('get', 'pods', 500);
  const error = await apiError(h.core.readNamespacedPod({ namespace: 'default', name: 'p' }));
  expect(error.code).toBe(500);
  expect(error.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
  expect((await h.core.readNamespacedPod({ namespace: 'default', name: 'p' })).metadata?.name).toBe('p');

  h.server.faults.failNext('*', 'pods/status', 503, 2);
  for (let i = 0; i < 2; i++) {
    const unavailable = await apiError(h.core.readNamespacedPodStatus({ namespace: 'default', name: 'p' }));
    expect(unavailable.code).toBe(503);
    expect(unavailable.body).toMatchObject({ reason: 'ServiceUnavailable', details: { retryAfterSeconds: 1 } });
  }
  await h.core.readNamespacedPodStatus({ namespace: 'default', name: 'p' });
});

test('delay: latency on list, and the request log shows verb, path and status', async () => {
  h = await startHarness();
  h.server.faults.delay({ verb: 'list', resource: 'pods' }, 200);
  h.server.clearRequestLog();
  const started = Date.now();
  await h.core.listNamespacedPod({ namespace: 'default' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  await h.core.listNamespacedConfigMap({ namespace: 'default' });
  await apiError(h.core.readNamespacedPod({ namespace: 'default', name: 'ghost' }));

  const log = h.server.requestLog();
  expect(log.map((e) => [e.method, e.verb, e.path, e.status])).toEqual([
    ['GET', 'list', '/api/v1/namespaces/default/pods', 200],
    ['GET', 'list', '/api/v1/namespaces/default/configmaps', 200],
    ['GET', 'get', '/api/v1/namespaces/default/pods/ghost', 404],
  ]);
  expect(log[0]?.durationMs).toBeGreaterThanOrEqual(190);
  // Only the matching request was held.
  expect(log[1]?.durationMs).toBeLessThan(190);
  expect(h.server.requestLog({ resource: 'pods', status: 404 })).toHaveLength(1);
  expect(h.server.requestLog((e) => e.verb === 'list')).toHaveLength(2);
});

test('a failed watch request reaches the Watch done callback with the status code', async () => {
  const harness = await startHarness();
  h = harness;
  harness.server.faults.failNext('watch', 'ipamblocks', 500);
  const err = await new Promise<unknown>((resolve) => {
    void new Watch(harness.kc).watch(`/apis/${GROUP}/${VERSION}/ipamblocks`, {}, () => undefined, resolve);
  });
  expect(field(err, 'statusCode')).toBe(500);
});
