import { afterEach, describe, expect, test } from 'vitest';
import { GROUP, VERSION, apiError, field, isRecord, mergePatch, pod, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.server.close();
  h = undefined;
});

const vxnetpools = { group: GROUP, version: VERSION, plural: 'vxnetpools' };
const ippools = { group: GROUP, version: VERSION, plural: 'ippools' };
const blocks = { group: GROUP, version: VERSION, plural: 'ipamblocks' };

function record(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new Error('object expected');
  return value;
}

describe('status subresource', () => {
  test('VxNetPool: main writes ignore status, status writes ignore everything else, generation follows spec', async () => {
    h = await startHarness();
    const created = record(await h.custom.createClusterCustomObject({
      ...vxnetpools,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VxNetPool', metadata: { name: 'v-pool' }, spec: { vxnets: [{ name: 'vxnet-abc1234' }], blockSize: 27 }, status: { ready: true } },
    }));
    expect(created['status']).toBeUndefined();

    const withStatus = record(await h.custom.replaceClusterCustomObjectStatus({
      ...vxnetpools, name: 'v-pool',
      body: { ...created, spec: { vxnets: [], blockSize: 1 }, metadata: { ...record(created['metadata']), labels: { sneaky: 'yes' } }, status: { ready: true, pools: [{ name: 'vxnet-abc1234', ippool: 'vxnet-abc1234' }] } },
    }));
    expect(field(withStatus, 'status.ready')).toBe(true);
    expect(field(withStatus, 'spec.blockSize')).toBe(27);
    expect(field(withStatus, 'metadata.labels')).toBeUndefined();
    expect(field(withStatus, 'metadata.generation')).toBe(1);

    const mainWrite = record(await h.custom.replaceClusterCustomObject({
      ...vxnetpools, name: 'v-pool', body: { ...withStatus, spec: { vxnets: [{ name: 'vxnet-abc1234' }], blockSize: 26 }, status: { ready: false } },
    }));
    expect(field(mainWrite, 'status.ready')).toBe(true);
    expect(field(mainWrite, 'spec.blockSize')).toBe(26);
    expect(field(mainWrite, 'metadata.generation')).toBe(2);

    const patchedStatus = await h.custom.patchClusterCustomObjectStatus({ ...vxnetpools, name: 'v-pool', body: { status: { ready: false }, spec: { blockSize: 20 } } }, mergePatch);
    expect(field(patchedStatus, 'status.ready')).toBe(false);
    expect(field(patchedStatus, 'spec.blockSize')).toBe(26);
    const got = await h.custom.getClusterCustomObjectStatus({ ...vxnetpools, name: 'v-pool' });
    expect(field(got, 'status.pools')).toEqual([{ name: 'vxnet-abc1234', ippool: 'vxnet-abc1234' }]);

    // IPAMBlock has no status subresource: the path does not exist.
    h.server.put('ipamblocks', { metadata: { name: 'b' }, spec: {} });
    expect((await apiError(h.custom.getClusterCustomObjectStatus({ ...blocks, name: 'b' }))).code).toBe(404);
  });

  test('pods: status only through pods/status', async () => {
    h = await startHarness();
    await h.core.createNamespacedPod({ namespace: 'default', body: { ...pod('p'), status: { phase: 'Running' } } });
    const read = await h.core.readNamespacedPod({ namespace: 'default', name: 'p' });
    expect(read.status?.phase).toBe('Pending');
    read.status = { phase: 'Running', podIP: '172.16.3.10' };
    const updated = await h.core.replaceNamespacedPodStatus({ namespace: 'default', name: 'p', body: read });
    expect(updated.status?.podIP).toBe('172.16.3.10');
    updated.status = { phase: 'Failed' };
    const ignored = await h.core.replaceNamespacedPod({ namespace: 'default', name: 'p', body: updated });
    expect(ignored.status?.phase).toBe('Running');
  });
});

describe('deletion', () => {
  test('finalizers keep the object with a deletionTimestamp until they are removed', async () => {
    h = await startHarness();
    await h.custom.createClusterCustomObject({
      ...ippools,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPPool', metadata: { name: 'vxnet-abc1234', finalizers: ['finalizers.network.qingcloud.com/ippool'] }, spec: { type: 'local' } },
    });
    const deleting = await h.custom.deleteClusterCustomObject({ ...ippools, name: 'vxnet-abc1234' });
    expect(field(deleting, 'metadata.deletionTimestamp')).toEqual(expect.any(String));
    expect(field(deleting, 'metadata.deletionGracePeriodSeconds')).toBe(0);
    const still = record(await h.custom.getClusterCustomObject({ ...ippools, name: 'vxnet-abc1234' }));
    expect(field(still, 'metadata.deletionTimestamp')).toBe(field(deleting, 'metadata.deletionTimestamp'));

    // A second delete changes nothing; new finalizers are refused.
    await h.custom.deleteClusterCustomObject({ ...ippools, name: 'vxnet-abc1234' });
    const added = await apiError(h.custom.patchClusterCustomObject({ ...ippools, name: 'vxnet-abc1234', body: { metadata: { finalizers: ['finalizers.network.qingcloud.com/ippool', 'other/x'] } } }, mergePatch));
    expect(added.code).toBe(422);
    // Clients cannot clear the timestamp.
    const cleared = record(await h.custom.replaceClusterCustomObject({ ...ippools, name: 'vxnet-abc1234', body: { ...still, metadata: { ...record(still['metadata']), deletionTimestamp: null }, spec: { type: 'local', disabled: true } } }));
    expect(field(cleared, 'metadata.deletionTimestamp')).toBe(field(deleting, 'metadata.deletionTimestamp'));

    await h.custom.patchClusterCustomObject({ ...ippools, name: 'vxnet-abc1234', body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await apiError(h.custom.getClusterCustomObject({ ...ippools, name: 'vxnet-abc1234' }))).code).toBe(404);
  });

  test('delete preconditions: a stale resourceVersion or another uid is a 409', async () => {
    h = await startHarness();
    const created = await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' } } });
    await h.core.patchNamespacedConfigMap({ namespace: 'default', name: 'c', body: { data: { a: '1' } } }, mergePatch);
    const stale = await apiError(h.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'c', body: { preconditions: { resourceVersion: created.metadata?.resourceVersion } } }));
    expect(stale.code).toBe(409);
    expect(String(stale.body['message'])).toContain('Precondition failed: ResourceVersion in precondition');
    const otherUid = await apiError(h.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'c', body: { preconditions: { uid: 'someone-else' } } }));
    expect(otherUid.code).toBe(409);
    await h.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'c', body: { preconditions: { uid: created.metadata?.uid } } });
    expect((await apiError(h.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'c' }))).code).toBe(404);
  });

  test('owner references: deleting an IPPool collects its blocks; Orphan keeps them', async () => {
    h = await startHarness();
    for (const name of ['p1', 'p2']) {
      const pool = h.server.put('ippools', { metadata: { name }, spec: { type: 'local' } });
      for (const i of [0, 1]) {
        h.server.put('ipamblocks', {
          metadata: { name: `${name}-b${i}`, ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'IPPool', name, uid: pool.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }] },
          spec: {},
        });
      }
    }
    await h.custom.deleteClusterCustomObject({ ...ippools, name: 'p1' });
    expect(h.server.list('ipamblocks').map((b) => b.metadata?.name)).toEqual(['p2-b0', 'p2-b1']);
    await h.custom.deleteClusterCustomObject({ ...ippools, name: 'p2', propagationPolicy: 'Orphan' });
    const orphans = h.server.list('ipamblocks');
    expect(orphans.map((b) => b.metadata?.name)).toEqual(['p2-b0', 'p2-b1']);
    expect(orphans.every((b) => b.metadata?.ownerReferences === undefined)).toBe(true);
  });

  test('a namespace terminates: no new content, its objects go, then it goes', async () => {
    h = await startHarness();
    await h.core.createNamespace({ body: { metadata: { name: 'team' } } });
    await h.core.createNamespacedConfigMap({ namespace: 'team', body: { metadata: { name: 'plain' } } });
    await h.core.createNamespacedConfigMap({ namespace: 'team', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    // The typed client declares V1Status; the apiserver answers with the terminating namespace.
    const terminating: unknown = await h.core.deleteNamespace({ name: 'team' });
    expect(field(terminating, 'status.phase')).toBe('Terminating');
    expect((await h.core.readNamespace({ name: 'team' })).metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect((await h.core.listNamespacedConfigMap({ namespace: 'team' })).items.map((c) => c.metadata?.name)).toEqual(['held']);
    const refused = await apiError(h.core.createNamespacedConfigMap({ namespace: 'team', body: { metadata: { name: 'late' } } }));
    expect(refused.code).toBe(403);
    await h.core.patchNamespacedConfigMap({ namespace: 'team', name: 'held', body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await apiError(h.core.readNamespace({ name: 'team' }))).code).toBe(404);
  });

  test('with podGracefulDeletion, a bound pod waits for its kubelet\'s grace-0 delete', async () => {
    h = await startHarness({ podGracefulDeletion: true });
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('bound', { nodeName: 'node-1' }) });
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('pending') });
    const graceful = await h.core.deleteNamespacedPod({ namespace: 'default', name: 'bound' });
    expect(graceful.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(graceful.metadata?.generation).toBe(2);
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'pending' });
    expect((await h.core.listNamespacedPod({ namespace: 'default' })).items.map((p) => p.metadata?.name)).toEqual(['bound']);
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'bound', gracePeriodSeconds: 0 });
    expect((await h.core.listNamespacedPod({ namespace: 'default' })).items).toHaveLength(0);
  });

  test('deletecollection with a label selector', async () => {
    h = await startHarness();
    for (const [name, app] of [['a', 'x'], ['b', 'y'], ['c', 'x']] as const) {
      await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, labels: { app } } } });
    }
    await h.core.deleteCollectionNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=x' });
    expect((await h.core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata?.name)).toEqual(['b']);
  });
});
