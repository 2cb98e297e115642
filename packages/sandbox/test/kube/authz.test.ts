import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, Watch, loadAllYaml } from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from 'vitest';
import { serviceAccountUser, startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer, KubeObject } from '../../src/kube/index.ts';
import { apiError, eventually, isRecord, mergePatch, pod, trustingFetch } from './helpers.ts';

const NODE = serviceAccountUser('kube-system', 'hostnic-node');
const USERS = { 'node-token': NODE, 'alice-token': 'alice' };

/** What the agent's deploy manifest might grant, as a YAML stream with a non-RBAC object mixed in. */
const NODE_RBAC = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: hostnic-node, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "hostnic:node"}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/status]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "hostnic:node"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "hostnic:node"}
subjects:
- {kind: ServiceAccount, name: hostnic-node, namespace: kube-system}
`;

function manifests(text: string): KubeObject[] {
  const docs: unknown[] = loadAllYaml(text);
  return docs.map((doc) => {
    if (!isRecord(doc)) throw new Error('manifest is not an object');
    return doc as KubeObject;
  });
}

let server: FakeKubeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function coreAs(s: FakeKubeApiServer, token?: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig(token === undefined ? {} : { token }));
  return kc.makeApiClient(CoreV1Api);
}

describe('users', () => {
  test('each token is a user; the request log says who asked', async () => {
    server = await startFakeKubeApiServer({ users: USERS });
    await coreAs(server).createNamespacedPod({ namespace: 'default', body: pod('web') });
    await coreAs(server, 'node-token').readNamespacedPod({ namespace: 'default', name: 'web' });
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeConfig({ token: 'alice-token' }));
    await kc.makeApiClient(CoreV1Api).listNamespace();
    const bad = await apiError(coreAs(server, 'wrong-token').listNamespace());
    expect(bad.code).toBe(401);

    expect(server.requestLog().map((e) => [e.verb, e.resource, e.user, e.status])).toEqual([
      ['create', 'pods', 'admin', 201],
      ['get', 'pods', NODE, 200],
      ['list', 'namespaces', 'alice', 200],
      ['list', 'namespaces', undefined, 401],
    ]);
    expect(server.requestLog({ user: NODE }).map((e) => e.name)).toEqual(['web']);
    // Without RBAC every authenticated user may do anything, as before.
    expect(server.rbacDenials()).toEqual([]);
  });

  test('faults can single out one client', async () => {
    server = await startFakeKubeApiServer({ users: USERS });
    server.faults.fail({ user: NODE, verb: 'list' }, 503, { times: 1 });
    expect((await apiError(coreAs(server, 'node-token').listNamespace())).code).toBe(503);
    expect((await coreAs(server, 'alice-token').listNamespace()).items).toHaveLength(4);
    expect((await coreAs(server, 'node-token').listNamespace()).items).toHaveLength(4);
  });

  test('with authentication off, a known token still names its user', async () => {
    server = await startFakeKubeApiServer({ token: null, users: USERS });
    await coreAs(server).listNamespace();
    await coreAs(server, 'node-token').listNamespace();
    expect(server.requestLog().map((e) => e.user)).toEqual(['admin', NODE]);
  });
});

describe('RBAC', () => {
  test('a service account is denied with the apiserver\'s 403, then allowed once RBAC objects grant it', async () => {
    server = await startFakeKubeApiServer({ users: USERS });
    await coreAs(server).createNamespacedPod({ namespace: 'default', body: pod('web') });
    server.enableRbac();
    const node = coreAs(server, 'node-token');

    const denied = await apiError(node.readNamespacedPod({ namespace: 'default', name: 'web' }));
    expect(denied.code).toBe(403);
    expect(denied.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: `pods "web" is forbidden: User "${NODE}" cannot get resource "pods" in API group "" in the namespace "default"`,
      details: { name: 'web', kind: 'pods' },
    });
    const listAll = await apiError(node.listPodForAllNamespaces());
    expect(listAll.body['message']).toBe(`pods is forbidden: User "${NODE}" cannot list resource "pods" in API group "" at the cluster scope`);
    expect(server.rbacDenials().map((d) => [d.verb, d.resource, d.namespace, d.name, d.missingRule])).toEqual([
      ['get', 'pods', 'default', 'web', { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: [] }],
      ['list', 'pods', undefined, undefined, { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: [] }],
    ]);
    // admin is never subject to RBAC.
    expect((await coreAs(server).listPodForAllNamespaces()).items).toHaveLength(1);

    const watchDenied = await new Promise<unknown>((resolve) => {
      void new Watch(kcAs(running(server), 'node-token')).watch('/api/v1/pods', {}, () => undefined, resolve).catch(resolve);
    });
    expect(String(watchDenied)).toMatch(/403|Forbidden/);

    server.enableRbac(manifests(NODE_RBAC));
    expect((await node.readNamespacedPod({ namespace: 'default', name: 'web' })).metadata?.name).toBe('web');
    expect((await node.listPodForAllNamespaces()).items).toHaveLength(1);
    const watch = await new Watch(kcAs(server, 'node-token')).watch('/api/v1/pods', {}, () => undefined, () => undefined);
    await eventually(() => running(server).activeWatches === 1);
    watch.abort();
    // The ServiceAccount in the stream is not an RBAC object and was not stored.
    expect(server.get('serviceaccounts', 'hostnic-node', 'kube-system')).toBeUndefined();
    expect(server.get('clusterroles', 'hostnic:node')?.kind).toBe('ClusterRole');
    server.clearRbacDenials();
    expect(server.rbacDenials()).toEqual([]);
  });

  test('pods/status may be patched while patching the pod itself is forbidden', async () => {
    server = await startFakeKubeApiServer({ users: USERS, rbac: manifests(NODE_RBAC) });
    await coreAs(server).createNamespacedPod({ namespace: 'default', body: pod('web') });
    const node = coreAs(server, 'node-token');

    const patched = await node.patchNamespacedPodStatus({ namespace: 'default', name: 'web', body: { status: { podIP: '172.16.3.7' } } }, mergePatch);
    expect(patched.status?.podIP).toBe('172.16.3.7');
    const denied = await apiError(node.patchNamespacedPod({ namespace: 'default', name: 'web', body: { metadata: { labels: { a: 'b' } } } }, mergePatch));
    expect(denied.code).toBe(403);
    expect(denied.body['message']).toBe(`pods "web" is forbidden: User "${NODE}" cannot patch resource "pods" in API group "" in the namespace "default"`);
    const put = await apiError(node.replaceNamespacedPodStatus({ namespace: 'default', name: 'web', body: patched }));
    expect(put.body['message']).toBe(`pods "web" is forbidden: User "${NODE}" cannot update resource "pods/status" in API group "" in the namespace "default"`);
    expect(server.rbacDenials().map((d) => d.missingRule.resources[0] + ' ' + d.missingRule.verbs[0])).toEqual(['pods patch', 'pods/status update']);
  });

  test('a Role and RoleBinding grant in their namespace only', async () => {
    server = await startFakeKubeApiServer({ users: USERS });
    const admin = coreAs(server);
    for (const name of ['team-a', 'team-b']) await admin.createNamespace({ body: { metadata: { name } } });
    server.enableRbac(manifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: config, namespace: team-a}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: config, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config}
subjects:
- {kind: ServiceAccount, name: hostnic-node, namespace: kube-system}
`));
    const node = coreAs(server, 'node-token');
    await node.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'c' } } });
    expect((await node.listNamespacedConfigMap({ namespace: 'team-a' })).items).toHaveLength(1);
    const other = await apiError(node.createNamespacedConfigMap({ namespace: 'team-b', body: { metadata: { name: 'c' } } }));
    expect(other.body['message']).toBe(`configmaps is forbidden: User "${NODE}" cannot create resource "configmaps" in API group "" in the namespace "team-b"`);
    const everywhere = await apiError(node.listConfigMapForAllNamespaces());
    expect(everywhere.code).toBe(403);
    // Someone else bound nowhere gets nothing, even in team-a.
    expect((await apiError(coreAs(server, 'alice-token').listNamespacedConfigMap({ namespace: 'team-a' }))).code).toBe(403);
  });

  test('resourceNames: the named object, or a list or watch narrowed to it by field selector', async () => {
    server = await startFakeKubeApiServer({ users: USERS });
    const admin = coreAs(server);
    for (const name of ['hostnic-ipam-config', 'other']) await admin.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name } } });
    server.enableRbac(manifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ipam-config, namespace: kube-system}
rules:
- {apiGroups: [""], resources: [configmaps], resourceNames: [hostnic-ipam-config], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ipam-config, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ipam-config}
subjects:
- {kind: ServiceAccount, name: hostnic-node}
`));
    const node = coreAs(server, 'node-token');
    await node.readNamespacedConfigMap({ namespace: 'kube-system', name: 'hostnic-ipam-config' });
    expect((await apiError(node.readNamespacedConfigMap({ namespace: 'kube-system', name: 'other' }))).code).toBe(403);
    expect((await apiError(node.listNamespacedConfigMap({ namespace: 'kube-system' }))).code).toBe(403);
    const narrowed = await node.listNamespacedConfigMap({ namespace: 'kube-system', fieldSelector: 'metadata.name=hostnic-ipam-config' });
    expect(narrowed.items.map((c) => c.metadata?.name)).toEqual(['hostnic-ipam-config']);
  });

  test('RBAC objects written through the API take effect at once; missing roles are named in the denial', async () => {
    server = await startFakeKubeApiServer({ users: USERS, rbac: [] });
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const node = coreAs(server, 'node-token');

    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'system:hostnic-node' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:hostnic-node' },
        subjects: [{ kind: 'ServiceAccount', name: 'hostnic-node', namespace: 'kube-system' }],
      },
    });
    const missing = await apiError(node.listNode());
    expect(missing.body['message']).toBe(
      `nodes is forbidden: User "${NODE}" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "system:hostnic-node" not found`);

    await rbac.createClusterRole({ body: { metadata: { name: 'system:hostnic-node' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] } });
    expect((await node.listNode()).items).toEqual([]);
    // Nor may it write RBAC objects it was not granted.
    expect((await apiError(kcAs(server, 'node-token').makeApiClient(RbacAuthorizationV1Api).createClusterRole({ body: { metadata: { name: 'x' }, rules: [] } }))).code).toBe(403);
  });

  test('discovery and health stay open to any authenticated user', async () => {
    server = await startFakeKubeApiServer({ users: USERS, rbac: [] });
    const headers = { Authorization: 'Bearer alice-token' };
    const fetch = trustingFetch(server);
    for (const path of ['/api', '/api/v1', '/apis', '/apis/rbac.authorization.k8s.io/v1', '/version', '/healthz']) {
      expect((await fetch(`${path}`, { headers })).status, path).toBe(200);
    }
    expect((await fetch(`/api/v1/namespaces`, { headers })).status).toBe(403);
  });
});

function running(s: FakeKubeApiServer | undefined): FakeKubeApiServer {
  if (!s) throw new Error('no server');
  return s;
}

function kcAs(s: FakeKubeApiServer, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig({ token }));
  return kc;
}
