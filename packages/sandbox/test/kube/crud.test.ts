import { ApiextensionsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from 'vitest';
import { startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer } from '../../src/kube/index.ts';
import { GROUP, VERSION, apiError, eventually, field, pod, startHarness, trustingFetch } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
let extra: FakeKubeApiServer | undefined;
afterEach(async () => {
  await h?.server.close();
  await extra?.close();
  h = undefined;
  extra = undefined;
});

describe('core objects through CoreV1Api', () => {
  test('pods: create fills server fields, read, replace, delete, 404 afterwards', async () => {
    h = await startHarness();
    const created = await h.core.createNamespacedPod({ namespace: 'default', body: pod('web') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.status?.phase).toBe('Pending');
    expect(created.spec?.restartPolicy).toBe('Always');

    const read = await h.core.readNamespacedPod({ namespace: 'default', name: 'web' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);

    read.metadata!.labels = { app: 'web' };
    const replaced = await h.core.replaceNamespacedPod({ namespace: 'default', name: 'web', body: read });
    expect(replaced.metadata?.labels).toEqual({ app: 'web' });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
    expect(replaced.metadata?.generation).toBe(1);

    const deleted = await h.core.deleteNamespacedPod({ namespace: 'default', name: 'web' });
    expect(deleted.metadata?.name).toBe('web');
    const gone = await apiError(h.core.readNamespacedPod({ namespace: 'default', name: 'web' }));
    expect(gone.code).toBe(404);
    expect(gone.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'pods "web" not found', details: { name: 'web', kind: 'pods' } });
  });

  test('nodes and namespaces are cluster-scoped; configmaps, secrets, services, events namespaced', async () => {
    h = await startHarness();
    const node = await h.core.createNode({ body: { metadata: { name: 'node-1', labels: { zone: 'a' } }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } } });
    expect(node.metadata?.namespace).toBeUndefined();
    expect(node.status?.addresses?.[0]?.address).toBe('10.0.0.1');
    expect((await h.core.listNode()).items.map((n) => n.metadata?.name)).toEqual(['node-1']);

    const ns = await h.core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    expect(ns.status?.phase).toBe('Active');
    const names = (await h.core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'team-a']);

    await h.core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'hostnic-ipam-config' }, data: { 'subnet-auto-assign': 'on', ipam: '{"Default":["vxnet-abc1234"]}' } } });
    const cm = await h.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'hostnic-ipam-config' });
    expect(cm.data?.['subnet-auto-assign']).toBe('on');

    await h.core.createNamespacedSecret({ namespace: 'kube-system', body: { metadata: { name: 'qcsecret' }, type: 'Opaque', data: { 'config.yaml': Buffer.from('qy_access_key_id: x').toString('base64') }, stringData: { zone: 'pek3' } } });
    const secret = await h.core.readNamespacedSecret({ namespace: 'kube-system', name: 'qcsecret' });
    expect(Buffer.from(secret.data?.['config.yaml'] ?? '', 'base64').toString()).toBe('qy_access_key_id: x');
    // stringData is folded into data on write, as the real registry does.
    expect(secret.data?.['zone']).toBe(Buffer.from('pek3').toString('base64'));
    expect(secret.stringData).toBeUndefined();

    await h.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } } });
    await h.core.createNamespacedEvent({ namespace: 'default', body: { metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Allocated', type: 'Normal', message: 'ip' } });
    const events = await h.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web,reason=Allocated' });
    expect(events.items).toHaveLength(1);

    // The configmap delete answers with a Success Status, not the object.
    const status = await h.core.deleteNamespacedConfigMap({ namespace: 'kube-system', name: 'hostnic-ipam-config' });
    expect(status.status).toBe('Success');
    // All-namespace lists reach across namespaces.
    expect((await h.core.listConfigMapForAllNamespaces()).items).toHaveLength(0);
    expect((await h.core.listSecretForAllNamespaces()).items.map((s) => s.metadata?.namespace)).toEqual(['kube-system']);
  });

  test('creating in a missing namespace is 404, duplicate names 409 AlreadyExists', async () => {
    h = await startHarness();
    const missing = await apiError(h.core.createNamespacedPod({ namespace: 'nowhere', body: pod('a') }));
    expect(missing.code).toBe(404);
    expect(missing.body['message']).toBe('namespaces "nowhere" not found');
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('a') });
    const dup = await apiError(h.core.createNamespacedPod({ namespace: 'default', body: pod('a') }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'pods "a" already exists' });
  });

  test('generateName and seeded uids are deterministic', async () => {
    const names: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const server = await startFakeKubeApiServer({ seed: 42 });
      const kc = new KubeConfig();
      kc.loadFromOptions(server.kubeConfig());
      const core = kc.makeApiClient(CoreV1Api);
      const a = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { generateName: 'worker-' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
      names.push([a.metadata?.name ?? '', a.metadata?.uid ?? '']);
      await server.close();
    }
    expect(names[0]?.[0]).toMatch(/^worker-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(names[0]).toEqual(names[1]);
  });

  test('422 Invalid names the field in details.causes', async () => {
    h = await startHarness();
    const noName = await apiError(h.core.createNamespacedConfigMap({ namespace: 'default', body: { data: {} } }));
    expect(noName.code).toBe(422);
    expect(noName.body['reason']).toBe('Invalid');
    expect(field(noName.body, 'details.causes')).toEqual([{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);

    const badName = await apiError(h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Not_A_Name' } } }));
    expect(badName.code).toBe(422);
    const causes = field(badName.body, 'details.causes');
    expect(causes).toEqual([expect.objectContaining({ reason: 'FieldValueInvalid', field: 'metadata.name' })]);
    expect(badName.body['message']).toMatch(/^ConfigMap "Not_A_Name" is invalid: metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain/);

    const badLabel = await apiError(h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'ok', labels: { 'bad key!': 'v' } } } }));
    expect(field(badLabel.body, 'details.causes')).toEqual([expect.objectContaining({ field: 'metadata.labels' })]);

    const noContainers = await apiError(h.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [] } } }));
    expect(field(noContainers.body, 'details.causes')).toEqual([expect.objectContaining({ reason: 'FieldValueRequired', field: 'spec.containers' })]);
  });

  test('malformed bodies are 400, unknown paths 404, unsupported verbs 405, missing token 401', async () => {
    h = await startHarness();
    const fetch = trustingFetch(h.server);
    const headers = { Authorization: 'Bearer hostnic-sandbox-token', 'Content-Type': 'application/json' };
    const malformed = await fetch(`/api/v1/namespaces/default/configmaps`, { method: 'POST', headers, body: '{"metadata":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });

    const wrongKind = await fetch(`/api/v1/namespaces/default/configmaps`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Secret', metadata: { name: 'x' } }) });
    expect(wrongKind.status).toBe(400);

    const unknown = await fetch(`/api/v1/widgets`, { headers });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ reason: 'NotFound' });

    const postOnItem = await fetch(`/api/v1/namespaces/default/configmaps/x`, { method: 'POST', headers, body: '{}' });
    expect(postOnItem.status).toBe(405);
    expect(await postOnItem.json()).toMatchObject({ reason: 'MethodNotAllowed', code: 405 });

    const anonymous = await fetch(`/api/v1/namespaces`);
    expect(anonymous.status).toBe(401);
    expect((await fetch(`/healthz`)).status).toBe(200);
  });

  test('leases through CoordinationV1Api', async () => {
    h = await startHarness();
    const lease = await h.coordination.createNamespacedLease({ namespace: 'kube-system', body: { metadata: { name: 'hostnic-controller' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new Date('2025-01-01T00:00:00Z') } } });
    expect(lease.spec?.holderIdentity).toBe('a');
    lease.spec!.holderIdentity = 'b';
    const renewed = await h.coordination.replaceNamespacedLease({ namespace: 'kube-system', name: 'hostnic-controller', body: lease });
    expect(renewed.spec?.holderIdentity).toBe('b');
    expect(renewed.metadata?.generation).toBe(2);
    // The second contender still holds the first read: stale.
    lease.spec!.holderIdentity = 'c';
    expect((await apiError(h.coordination.replaceNamespacedLease({ namespace: 'kube-system', name: 'hostnic-controller', body: lease }))).code).toBe(409);
    await h.coordination.deleteNamespacedLease({ namespace: 'kube-system', name: 'hostnic-controller' });
    expect((await h.coordination.listNamespacedLease({ namespace: 'kube-system' })).items).toHaveLength(0);
  });
});

describe('custom resources', () => {
  test('hostnic CRDs: create, get, list, replace, delete; apiVersion and kind are required', async () => {
    h = await startHarness();
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMHandle', metadata: { name: 'default-nginx-abc123' }, spec: { handleID: 'default-nginx-abc123', block: { '4100-172.16.3.0/27': 1 }, deleted: false } };
    const created = await h.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', body });
    expect(field(created, 'metadata.generation')).toBe(1);
    const read = await h.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'default-nginx-abc123' });
    expect(field(read, 'spec.block')).toEqual({ '4100-172.16.3.0/27': 1 });
    expect(field(read, 'kind')).toBe('IPAMHandle');

    const list = await h.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles' });
    expect(field(list, 'kind')).toBe('IPAMHandleList');
    expect(field(list, 'metadata.resourceVersion')).toBe(h.server.resourceVersion());

    const updated = { ...body, metadata: { name: 'default-nginx-abc123', resourceVersion: field(read, 'metadata.resourceVersion') }, spec: { ...body.spec, deleted: true } };
    const replaced = await h.custom.replaceClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'default-nginx-abc123', body: updated });
    expect(field(replaced, 'spec.deleted')).toBe(true);
    expect(field(replaced, 'metadata.generation')).toBe(2);

    const deleted = await h.custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'default-nginx-abc123' });
    expect(field(deleted, 'metadata.name')).toBe('default-nginx-abc123');
    const gone = await apiError(h.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', name: 'default-nginx-abc123' }));
    expect(gone.body['message']).toBe('ipamhandles.network.qingcloud.com "default-nginx-abc123" not found');

    const noKind = await apiError(h.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', body: { metadata: { name: 'x' } } }));
    expect(noKind.code).toBe(400);
    const wrongVersion = await apiError(h.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ipamhandles', body: { apiVersion: `${GROUP}/v1`, kind: 'IPAMHandle', metadata: { name: 'x' } } }));
    expect(wrongVersion.code).toBe(400);
  });

  test('a CRD created through apiextensions.k8s.io is served, discoverable and removed with its objects', async () => {
    h = await startHarness();
    const ext = h.kc.makeApiClient(ApiextensionsV1Api);
    const crd = await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com', scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, subresources: { status: {} } }],
        },
      },
    });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    await h.custom.createNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } } });

    // KubernetesObjectApi maps kinds to URLs through discovery.
    const objects = KubernetesObjectApi.makeApiClient(h.kc);
    const fetched = await objects.read({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' } });
    expect(field(fetched, 'spec.size')).toBe(1);
    const ippools = await objects.list(`${GROUP}/${VERSION}`, 'IPPool');
    expect(ippools.items).toEqual([]);

    const invalid = await apiError(ext.createCustomResourceDefinition({ body: { metadata: { name: 'wrong' }, spec: { group: 'example.com', scope: 'Cluster', names: { plural: 'gadgets', kind: 'Gadget' }, versions: [{ name: 'v1', served: true, storage: true }] } } }));
    expect(invalid.code).toBe(422);
    expect(field(invalid.body, 'details.causes')).toEqual([expect.objectContaining({ field: 'metadata.name' })]);

    expect(h.server.activeWatches).toBe(0);
    const harness = h;
    const watchDone = new Promise<unknown>((resolve) => {
      void new Watch(harness.kc).watch('/apis/example.com/v1/widgets', {}, () => undefined, resolve);
    });
    await eventually(() => harness.server.activeWatches === 1);
    await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    expect(await watchDone).toBeNull();
    expect(h.server.get('customresourcedefinitions', 'widgets.example.com')).toBeUndefined();
    const unserved = await apiError(h.custom.listNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets' }));
    expect(unserved.code).toBe(404);
  });

  test('a CRD served in two versions shows the same objects under each apiVersion', async () => {
    h = await startHarness();
    h.server.registerCrd({ group: 'example.com', version: 'v1', extraVersions: ['v1beta1'], plural: 'gizmos', kind: 'Gizmo', scope: 'Cluster' });
    await h.custom.createClusterCustomObject({ group: 'example.com', version: 'v1beta1', plural: 'gizmos', body: { apiVersion: 'example.com/v1beta1', kind: 'Gizmo', metadata: { name: 'g' } } });
    const v1 = await h.custom.getClusterCustomObject({ group: 'example.com', version: 'v1', plural: 'gizmos', name: 'g' });
    expect(field(v1, 'apiVersion')).toBe('example.com/v1');
    const beta = await h.custom.listClusterCustomObject({ group: 'example.com', version: 'v1beta1', plural: 'gizmos' });
    expect(field(beta, 'apiVersion')).toBe('example.com/v1beta1');
    expect(field(beta, 'items')).toEqual([expect.objectContaining({ apiVersion: 'example.com/v1beta1', kind: 'Gizmo' })]);
    expect((await apiError(h.custom.getClusterCustomObject({ group: 'example.com', version: 'v2', plural: 'gizmos', name: 'g' }))).code).toBe(404);
  });

  test('typed accessors read and write without HTTP and feed the API', async () => {
    h = await startHarness();
    const stored = h.server.put('ippools', { metadata: { name: 'vxnet-abc1234', labels: { 'ippool.network.qingcloud.com/type': 'local' } }, spec: { type: 'local', cidr: '172.16.3.0/24' }, status: { capacity: 253 } });
    expect(stored.apiVersion).toBe(`${GROUP}/${VERSION}`);
    expect(stored.kind).toBe('IPPool');
    const viaApi = await h.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ippools', name: 'vxnet-abc1234' });
    expect(field(viaApi, 'status.capacity')).toBe(253);
    expect(h.server.list('ippools', { labelSelector: 'ippool.network.qingcloud.com/type in (local)' })).toHaveLength(1);
    expect(h.server.get('IPPool', 'vxnet-abc1234')?.metadata?.uid).toBe(stored.metadata?.uid);
    expect(h.server.delete('ippools', 'vxnet-abc1234')).toBe(true);
    expect(h.server.get('ippools', 'vxnet-abc1234')).toBeUndefined();
  });

  test('kubeconfig text is YAML usable by loadFromString, and the object by loadFromOptions', async () => {
    extra = await startFakeKubeApiServer({ token: 'secret-token' });
    const text = extra.kubeconfig({ namespace: 'kube-system' });
    expect(text).toContain(`certificate-authority-data: "${Buffer.from(extra.ca).toString('base64')}"`);
    expect(text).not.toContain('insecure-skip-tls-verify');
    expect(extra.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kc = new KubeConfig();
    kc.loadFromString(text);
    expect(kc.getCurrentCluster()?.server).toBe(extra.url);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('kube-system');
    expect((await kc.makeApiClient(CoreV1Api).listNamespace()).items.length).toBe(4);
    const kc2 = new KubeConfig();
    kc2.loadFromOptions(extra.kubeConfig());
    expect((await kc2.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).metadata?.name).toBe('default');
  });

  test('plainHttp serves HTTP, for request-heavy tests; its kubeconfig skips TLS verification', async () => {
    extra = await startFakeKubeApiServer({ plainHttp: true });
    expect(extra.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(extra.ca).toBe('');
    expect(extra.kubeconfig()).toContain('insecure-skip-tls-verify: true');
    const kc = new KubeConfig();
    kc.loadFromString(extra.kubeconfig());
    expect((await kc.makeApiClient(CoreV1Api).listNamespace()).items).toHaveLength(4);
  });
});
