/**
 * The fake under the project's own deploy/hostnic.yaml: its CRDs are structural and enforced, its RBAC
 * objects are what the fake authorizes hostnic's service accounts by.
 */
import { readFile } from 'node:fs/promises';
import { CoreV1Api, CustomObjectsApi, KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { serviceAccountUser, startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer, KubeObject } from '../../src/kube/index.ts';
import { apiError, field, isRecord, mergePatch, pod } from './helpers.ts';

const GROUP = 'network.qingcloud.com';
const VERSION = 'v1alpha1';

let server: FakeKubeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function deployManifests(): Promise<KubeObject[]> {
  const text = await readFile(new URL('../../../../deploy/hostnic.yaml', import.meta.url), 'utf8');
  const docs: unknown[] = loadAllYaml(text);
  return docs.filter(isRecord).map((doc) => doc as KubeObject);
}

function clients(s: FakeKubeApiServer, token?: string): { core: CoreV1Api; custom: CustomObjectsApi } {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig(token === undefined ? {} : { token }));
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

test('deploy/hostnic.yaml: CRDs accepted and enforced, service accounts held to their RBAC rules', async () => {
  const docs = await deployManifests();
  const s = await startFakeKubeApiServer({
    users: { node: serviceAccountUser('kube-system', 'hostnic-node'), controller: serviceAccountUser('kube-system', 'hostnic-controller') },
  });
  server = s;
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  expect(crds.map((c) => c.metadata?.name)).toEqual([
    `vxnetpools.${GROUP}`, `ippools.${GROUP}`, `ipamblocks.${GROUP}`, `ipamhandles.${GROUP}`,
  ]);
  for (const crd of crds) s.applyCrdManifest(crd);
  s.enableRbac(docs);

  const admin = clients(s);
  await admin.core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'hostnic-ipam-config' }, data: {} } });
  await admin.core.createNamespacedPod({ namespace: 'default', body: pod('web') });
  await admin.custom.createClusterCustomObject({
    group: GROUP, version: VERSION, plural: 'vxnetpools',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VxNetPool', metadata: { name: 'v-pool' }, spec: { vxnets: [{ name: 'vxnet-abc1234' }], blockSize: 26 } },
  });

  const node = clients(s, 'node');
  const handle = await node.custom.createClusterCustomObject({
    group: GROUP, version: VERSION, plural: 'ipamhandles',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMHandle', metadata: { name: 'default-web' }, spec: { handleID: 'default-web', block: { b: 1 }, deleted: false, undeclared: 'x' } },
  });
  expect(field(handle, 'spec')).toEqual({ handleID: 'default-web', block: { b: 1 }, deleted: false });
  const wrong = await apiError(node.custom.createClusterCustomObject({
    group: GROUP, version: VERSION, plural: 'ipamhandles',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAMHandle', metadata: { name: 'bad' }, spec: { handleID: 'bad', block: { b: 'one' }, deleted: false } },
  }));
  expect(field(wrong.body, 'details.causes')).toEqual([expect.objectContaining({ field: 'spec.block.b', reason: 'FieldValueTypeInvalid' })]);
  await node.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'hostnic-ipam-config' });
  await node.core.patchNamespacedPodStatus({ namespace: 'default', name: 'web', body: { metadata: { annotations: { 'cni.projectcalico.org/podIP': '172.16.3.7/32' } } } }, mergePatch);
  expect((await apiError(node.core.listNamespacedConfigMap({ namespace: 'kube-system' }))).code).toBe(403);
  expect((await apiError(node.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'vxnetpools' }))).code).toBe(403);

  const controller = clients(s, 'controller');
  const pool = await controller.custom.getClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: 'vxnetpools', name: 'v-pool' });
  const updated = await controller.custom.replaceClusterCustomObjectStatus({
    group: GROUP, version: VERSION, plural: 'vxnetpools', name: 'v-pool',
    body: { ...(pool as Record<string, unknown>), status: { ready: true, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(0).toISOString() }] } },
  });
  expect(field(updated, 'status.ready')).toBe(true);
  const mainWrite = await apiError(controller.custom.replaceClusterCustomObject({ group: GROUP, version: VERSION, plural: 'vxnetpools', name: 'v-pool', body: updated }));
  expect(mainWrite.body['message']).toBe(
    `vxnetpools.${GROUP} "v-pool" is forbidden: User "system:serviceaccount:kube-system:hostnic-controller" cannot update resource "vxnetpools" in API group "${GROUP}" at the cluster scope`);
  expect(s.rbacDenials().map((d) => `${d.user.split(':').pop() ?? ''} ${d.missingRule.verbs.join()} ${d.missingRule.resources.join()}`)).toEqual([
    'hostnic-node list configmaps', 'hostnic-node list vxnetpools', 'hostnic-controller update vxnetpools',
  ]);
});
