import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, kubeAccessFromText } from '@hostnic/runtime/kube/http';
import type { KubeObject } from '@hostnic/runtime/kube/http';
import { startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer } from '@hostnic/sandbox/kube';
import { CALICO_POD_IPS_ANNOTATION, CALICO_POD_IP_ANNOTATION, podAnnotationReader, podIpAnnotator, podPresenceReader } from '../../src/daemon/kube.ts';
import { nodePodCache } from '../../src/daemon/pod-cache.ts';
import type { NodePodCache } from '../../src/daemon/pod-cache.ts';
import { createLogger } from '@hostnic/runtime';
import { CniCode, PodError } from '../../src/pods/index.ts';

describe('podIpAnnotator against the fake kube-apiserver', () => {
  let kube: FakeKubeApiServer | undefined;
  let kc: KubeClient;

  beforeEach(async () => {
    kube = await startFakeKubeApiServer();
    kc = new KubeClient(await kubeAccessFromText(kube.kubeconfig()));
    await kc.create('/api/v1/namespaces', { metadata: { name: 'calico-ns' } });
    await kc.create('/api/v1/namespaces/calico-ns/pods', {
      metadata: { name: 'web', namespace: 'calico-ns', annotations: { keep: 'me' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'pause' }] },
    });
  });

  afterEach(async () => {
    await kc.close();
    await kube?.close();
    kube = undefined;
  });

  it('patches pods/<name>/status with both annotations set to the bare IP, keeping the others', async () => {
    await podIpAnnotator(kc)('calico-ns', 'web', '172.16.3.9');
    const pod = await kc.get<KubeObject>('/api/v1/namespaces/calico-ns/pods/web');
    expect(pod.metadata?.annotations).toEqual({
      keep: 'me',
      [CALICO_POD_IP_ANNOTATION]: '172.16.3.9',
      [CALICO_POD_IPS_ANNOTATION]: '172.16.3.9',
    });
    const patches = kube?.requestLog({ verb: 'patch' }) ?? [];
    expect(patches.map((p) => [p.method, p.subresource, p.namespace, p.name, p.status])).toEqual([['PATCH', 'status', 'calico-ns', 'web', 200]]);
  });

  it('a 503 is transient (code 11), a missing pod is not', async () => {
    kube?.faults.failNext('patch', 'pods/status', 503);
    const busy = await podIpAnnotator(kc)('calico-ns', 'web', '172.16.3.9').catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(PodError);
    expect((busy as PodError).cniCode).toBe(CniCode.tryAgain);
    expect((busy as PodError).message).toMatch(/calico-ns\/web.*HTTP 503/);

    const gone = await podIpAnnotator(kc)('calico-ns', 'gone', '172.16.3.9').catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(Error);
    expect(gone).not.toBeInstanceOf(PodError);
    expect((gone as Error).message).toMatch(/HTTP 404/);
  });
});

describe('the node pod cache', () => {
  let kube: FakeKubeApiServer | undefined;
  let cache: NodePodCache | undefined;
  let kc: KubeClient | undefined;

  afterEach(async () => {
    await cache?.stop();
    await kc?.close();
    await kube?.close();
    kube = undefined;
  });

  it('holds this node\'s pods only, answers annotations without a GET, and falls back to one when it misses', async () => {
    kube = await startFakeKubeApiServer();
    kc = new KubeClient(await kubeAccessFromText(kube.kubeconfig()));
    const client = kc;
    const pod = (name: string, node: string, annotations: Record<string, string> = {}) =>
      client.create('/api/v1/namespaces/default/pods', { metadata: { name, annotations }, spec: { nodeName: node, containers: [{ name: 'c', image: 'pause' }] } });
    await pod('mine', 'node-1', { 'cni.projectcalico.org/ipAddrs': '["172.16.3.40"]' });
    await pod('theirs', 'node-2');
    const lines: string[] = [];
    cache = nodePodCache(client, 'node-1', createLogger({ destination: { write: (l: string) => void lines.push(l) } }), { baseMs: 20, maxMs: 200 });
    cache.start();
    const c = cache;
    await expect.poll(() => c.get('mine', 'default')?.metadata?.name, { timeout: 20_000 }).toBe('mine');
    expect(c.get('theirs', 'default')).toBeUndefined();

    const read = podAnnotationReader(client, c);
    kube.clearRequestLog();
    expect(await read('default', 'mine')).toEqual({ 'cni.projectcalico.org/ipAddrs': '["172.16.3.40"]' });
    expect(kube.requestLog({ verb: 'get', resource: 'pods' })).toEqual([]);
    // Not in the cache (another node's pod here): read from the API.
    expect(await read('default', 'theirs')).toEqual({});
    expect(kube.requestLog({ verb: 'get', resource: 'pods' })).toHaveLength(1);

    // Presence from the cache: gone when absent; the fresh reader tells moved from deleted.
    const cached = podPresenceReader(client, 'node-1', c);
    const fresh = podPresenceReader(client, 'node-1');
    expect((await cached('default', 'mine')).kind).toBe('here');
    expect((await cached('default', 'theirs')).kind).toBe('gone');
    expect(await fresh('default', 'theirs')).toEqual({ kind: 'elsewhere', node: 'node-2' });

    // A watch that ends is picked up again: a pod created afterwards still arrives.
    kube.endWatches();
    await pod('later', 'node-1');
    await expect.poll(() => c.get('later', 'default')?.metadata?.name, { timeout: 20_000 }).toBe('later');
  });
});
