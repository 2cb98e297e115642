import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { describeError, httpStatusOf, isConflict, isNotFound } from '@hostnic/runtime/kube';
import { startKube } from './harness.ts';
import type { Kube } from './harness.ts';

let kube: Kube | undefined;
afterEach(async () => {
  await kube?.server.close();
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

test('httpStatusOf reads the code of client-node ApiExceptions', async () => {
  kube = await startKube();
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  const missing = await failure(core.readNamespace({ name: 'nope' }));
  expect(httpStatusOf(missing)).toBe(404);
  expect(isNotFound(missing)).toBe(true);
  expect(describeError(missing)).toBe('HTTP 404: namespaces "nope" not found');
  const exists = await failure(core.createNamespace({ body: { metadata: { name: 'default' } } }));
  expect(isConflict(exists)).toBe(true);
});

test('network errors and other values have no HTTP status', async () => {
  kube = await startKube();
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  await kube.server.close();
  const refused = await failure(core.readNamespace({ name: 'default' }));
  expect(httpStatusOf(refused)).toBeUndefined();
  expect(httpStatusOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  expect(httpStatusOf(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410);
  expect(httpStatusOf(undefined)).toBeUndefined();
  expect(httpStatusOf({ code: 42 })).toBeUndefined();
});
