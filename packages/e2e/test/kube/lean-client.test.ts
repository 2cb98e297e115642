/**
 * runtime's lean Kubernetes client (what the agent runs on) against the sandbox's fake kube-apiserver over
 * HTTPS, with deploy/hostnic.yaml's CRDs and RBAC enforced: token and client-certificate authentication,
 * lists with selectors, a watch resumed from a resourceVersion, 410 Gone and the informer's relist, a
 * conflict on replace, the pod status patch, and @hostnic/ipam's store contract on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { storeContractCases } from '@hostnic/ipam/testing';
import {
  KubeApiError,
  KubeClient,
  KubeInformer,
  configMapsApi,
  customObjectsApi,
  httpStatusOf,
  isConflict,
  kubeAccessFromText,
  resourcePath,
} from '@hostnic/runtime/kube/http';
import type { KubeList, KubeObject } from '@hostnic/runtime/kube/http';
import { serviceAccountUser, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer } from '@hostnic/sandbox/kube';
import { deployManifests } from '../../src/stack/stack.ts';

const NODE_TOKEN = 'lean-node-token';
const NODE_USER = serviceAccountUser('kube-system', 'hostnic-node');
const PODS = '/api/v1/pods';

interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers?: unknown[] };
}

let kube: FakeKubeApiServer;
let admin: KubeClient;
let node: KubeClient;
const clients: KubeClient[] = [];

async function client(kubeconfig: string): Promise<KubeClient> {
  const c = new KubeClient(await kubeAccessFromText(kubeconfig));
  clients.push(c);
  return c;
}

function podBody(name: string, nodeName: string): Pod {
  return { metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'pause' }] } };
}

beforeAll(async () => {
  kube = await startFakeKubeApiServer({ users: { [NODE_TOKEN]: NODE_USER }, clientCertificates: true, bookmarkIntervalMs: 200 });
  const manifests = await deployManifests();
  for (const crd of manifests.filter((m) => m.kind === 'CustomResourceDefinition')) kube.applyCrdManifest(crd);
  kube.enableRbac(manifests);
  admin = await client(kube.kubeconfig());
  node = await client(kube.kubeconfig({ token: NODE_TOKEN }));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await kube.close();
});

describe('authentication and authorization', () => {
  it('a token is its service account: RBAC lets it list pods and refuses what the ClusterRole lacks', async () => {
    await admin.create('/api/v1/namespaces/default/pods', podBody('auth-a', 'node-1'));
    const pods = await node.listAll<Pod>(PODS, { fieldSelector: 'spec.nodeName=node-1' });
    expect(pods.items.map((p) => p.metadata?.name)).toContain('auth-a');
    const refused = await node.delete('/api/v1/namespaces/default/pods/auth-a').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect(httpStatusOf(refused)).toBe(403);
    expect((refused as KubeApiError).reason).toBe('Forbidden');
    expect(kube.requestLog({ verb: 'list', resource: 'pods' }).at(-1)?.user).toBe(NODE_USER);
    const stranger = await client(kube.kubeconfig({ token: 'nobody-knows-this' }));
    expect(httpStatusOf(await stranger.get(PODS).catch((e: unknown) => e))).toBe(401);
  });

  it('a client certificate is its CN in its O groups; without a token or a certificate the request is refused', async () => {
    const masters = await client(kube.kubeconfig({ clientCertificate: await kube.clientCertificate('cert-admin', ['system:masters']) }));
    await masters.create('/api/v1/namespaces', { metadata: { name: 'cert-made' } });
    expect(kube.requestLog({ verb: 'create', resource: 'namespaces' }).at(-1)?.user).toBe('cert-admin');
    const plain = await client(kube.kubeconfig({ clientCertificate: await kube.clientCertificate('cert-nobody') }));
    expect(httpStatusOf(await plain.get(PODS).catch((e: unknown) => e))).toBe(403);
  });
});

describe('requests', () => {
  it('a replace with a stale resourceVersion is a 409 Conflict', async () => {
    const created = await admin.create<Pod>('/api/v1/namespaces/default/pods', podBody('conflict-a', 'node-2'));
    const path = resourcePath({ version: 'v1', plural: 'pods', namespace: 'default', name: 'conflict-a' });
    const labelled = { ...created, metadata: { ...created.metadata, labels: { v: '1' } } };
    await admin.replace(path, labelled);
    const error = await admin.replace(path, { ...labelled, metadata: { ...labelled.metadata, labels: { v: '2' } } }).catch((e: unknown) => e);
    expect(isConflict(error)).toBe(true);
    expect((error as KubeApiError).reason).toBe('Conflict');
    expect((await admin.get<Pod>(path)).metadata?.labels).toEqual({ v: '1' });
  });

  it('the node account patches pods/status (strategic merge), keeping the other annotations', async () => {
    await admin.create('/api/v1/namespaces/default/pods', { ...podBody('status-a', 'node-1'), metadata: { name: 'status-a', namespace: 'default', annotations: { keep: 'me' } } });
    const path = resourcePath({ version: 'v1', plural: 'pods', namespace: 'default', name: 'status-a', subresource: 'status' });
    await node.patch(path, { metadata: { annotations: { 'cni.projectcalico.org/podIP': '172.16.3.9' } } }, 'strategic');
    const pod = await node.get<Pod>(resourcePath({ version: 'v1', plural: 'pods', namespace: 'default', name: 'status-a' }));
    expect(pod.metadata?.annotations).toEqual({ keep: 'me', 'cni.projectcalico.org/podIP': '172.16.3.9' });
  });

  it('lists in pages of the asked size, with one snapshot version', async () => {
    for (let i = 0; i < 5; i++) await admin.create('/api/v1/namespaces/default/pods', podBody(`page-${i}`, 'node-page'));
    kube.clearRequestLog();
    const all = await node.listAll<Pod>(PODS, { fieldSelector: 'spec.nodeName=node-page', pageSize: 2 });
    expect(all.items.map((p) => p.metadata?.name).sort()).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(kube.requestLog({ verb: 'list', resource: 'pods' })).toHaveLength(3);
    expect(all.metadata.resourceVersion).toMatch(/^\d+$/);
  });
});

describe('watch', () => {
  it('resumes from a resourceVersion: only what came after it, then bookmarks', async () => {
    const list: KubeList<Pod> = await node.listAll<Pod>(PODS, { fieldSelector: 'spec.nodeName=node-w' });
    await admin.create('/api/v1/namespaces/default/pods', podBody('watch-after', 'node-w'));
    await admin.create('/api/v1/namespaces/default/pods', podBody('watch-elsewhere', 'node-x'));
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const event of node.watch<Pod>(PODS, { resourceVersion: list.metadata.resourceVersion, fieldSelector: 'spec.nodeName=node-w', signal: stop.signal })) {
      seen.push(event.type === 'BOOKMARK' ? 'BOOKMARK' : `${event.type} ${event.object.metadata?.name ?? ''}`);
      if (event.type === 'BOOKMARK') stop.abort();
    }
    expect(seen).toEqual(['ADDED watch-after', 'BOOKMARK']);
  });

  it('a version the server forgot is 410 Gone; the informer relists and carries on', async () => {
    const before = kube.resourceVersion();
    await admin.create('/api/v1/namespaces/default/pods', podBody('gone-0', 'node-g'));
    kube.compact('pods');
    const gone = await (async () => {
      for await (const _ of node.watch<Pod>(PODS, { resourceVersion: before, fieldSelector: 'spec.nodeName=node-g' })) return undefined;
      return undefined;
    })().catch((e: unknown) => e);
    expect(httpStatusOf(gone)).toBe(410);

    await admin.create('/api/v1/namespaces/default/pods', podBody('gone-1', 'node-g'));
    const informer = new KubeInformer<Pod>({ name: 'node-g pods', client: node, path: PODS, fieldSelector: 'spec.nodeName=node-g', resyncMs: 0, backoff: { baseMs: 10, maxMs: 50 } });
    informer.start();
    try {
      await informer.synced();
      expect(informer.list().map((p) => p.metadata?.name).sort()).toEqual(['gone-0', 'gone-1']);
      await expect.poll(() => kube.activeWatches, { timeout: 20_000 }).toBeGreaterThan(0);
      // The watch ends and its resumption is answered 410 (as an apiserver whose history moved on does).
      kube.faults.failNext('watch', 'pods', 410);
      kube.endWatches({ resource: 'pods' });
      await admin.create('/api/v1/namespaces/default/pods', podBody('gone-2', 'node-g'));
      await expect.poll(() => informer.get('gone-2', 'default')?.metadata?.name, { timeout: 10_000 }).toBe('gone-2');
      expect(informer.stats.expired).toBeGreaterThanOrEqual(1);
      expect(informer.stats.lists).toBeGreaterThanOrEqual(2);
      expect(informer.stats.errors).toBe(0);
    } finally {
      await informer.stop();
    }
  });
});

describe('@hostnic/ipam store contract on the lean client', () => {
  for (const c of storeContractCases()) {
    it(c.name, async () => {
      await c.run(new KubernetesIpamStore({ customObjects: customObjectsApi(admin), configMaps: configMapsApi(admin) }));
    });
  }
});
