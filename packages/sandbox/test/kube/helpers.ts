import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions,
} from '@kubernetes/client-node';
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { Agent, fetch as undiciFetch } from 'undici';
import { registerHostnicCrds, startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer, FakeKubeApiServerOptions } from '../../src/kube/index.ts';

export interface Harness {
  server: FakeKubeApiServer;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

/** A fresh server with the hostnic CRDs, and clients configured through a kubeconfig string. */
export async function startHarness(options: FakeKubeApiServerOptions = {}): Promise<Harness> {
  const server = await startFakeKubeApiServer(options);
  registerHostnicCrds(server);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return {
    server,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

/** fetch against the server's HTTPS listener, trusting its CA (Node's global fetch knows only the system CAs). */
export function trustingFetch(server: FakeKubeApiServer): (path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<Response> {
  const dispatcher = new Agent({ connect: { ca: server.ca } });
  return async (path, init = {}) => (await undiciFetch(`${server.url}${path}`, { ...init, dispatcher })) as unknown as Response;
}

export const mergePatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const jsonPatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
export const strategicPatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export const GROUP = 'network.qingcloud.com';
export const VERSION = 'v1alpha1';

/** The ApiException thrown by client-node, narrowed; fails the test when something else was thrown. */
export async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
      const raw = 'body' in error ? error.body : undefined;
      const body: unknown = typeof raw === 'string' && raw !== '' ? JSON.parse(raw) : {};
      return { code: error.code, body: isRecord(body) ? body : {} };
    }
    throw error;
  }
  throw new Error('expected the request to fail');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested field of an untyped object (custom objects come back as `any`-free unknowns). */
export function field(obj: unknown, path: string): unknown {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

export async function eventually(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string } = {}) {
  return {
    metadata: { name, labels: extra.labels ?? {} },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
}
