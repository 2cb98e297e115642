import { afterEach, expect, test } from 'vitest';
import { KubeApiError, KubeRequestError, describeError, httpStatusOf, isConflict, isNotFound } from '@hostnic/runtime/kube/http';
import { startKube } from './harness.ts';
import type { Kube } from './harness.ts';

let kube: Kube | undefined;
afterEach(async () => {
  await kube?.close();
  kube = undefined;
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

test('httpStatusOf reads the code of the lean client\'s KubeApiError', async () => {
  kube = await startKube();
  const missing = await failure(kube.client.get('/api/v1/namespaces/nope'));
  expect(missing).toBeInstanceOf(KubeApiError);
  expect(httpStatusOf(missing)).toBe(404);
  expect(isNotFound(missing)).toBe(true);
  expect(describeError(missing)).toMatch(/404.*namespaces "nope" not found/);
  const exists = await failure(kube.client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
  expect(isConflict(exists)).toBe(true);
});

test('network errors and other values have no HTTP status', async () => {
  kube = await startKube();
  await kube.server.close();
  const refused = await failure(kube.client.get('/api/v1/namespaces/default'));
  expect(refused).toBeInstanceOf(KubeRequestError);
  expect(httpStatusOf(refused)).toBeUndefined();
  expect(httpStatusOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  expect(httpStatusOf(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410);
  expect(httpStatusOf(undefined)).toBeUndefined();
  expect(httpStatusOf({ code: 42 })).toBeUndefined();
});
