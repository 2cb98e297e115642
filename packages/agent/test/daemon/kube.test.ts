import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// Relative on purpose: the agent must not depend on the private sandbox package.
import { startFakeKubeApiServer } from '../../../sandbox/src/kube/index.ts';
import type { FakeKubeApiServer } from '../../../sandbox/src/kube/index.ts';
import { CALICO_POD_IPS_ANNOTATION, CALICO_POD_IP_ANNOTATION, podIpAnnotator } from '../../src/daemon/kube.ts';
import { CniCode, PodError } from '../../src/pods/index.ts';

describe('podIpAnnotator against the fake kube-apiserver', () => {
  let kube: FakeKubeApiServer | undefined;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeEach(async () => {
    kube = await startFakeKubeApiServer();
    kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'calico-ns' } } });
    await core.createNamespacedPod({
      namespace: 'calico-ns',
      body: {
        metadata: { name: 'web', namespace: 'calico-ns', annotations: { keep: 'me' } },
        spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'pause' }] },
      },
    });
  });

  afterEach(async () => {
    await kube?.close();
    kube = undefined;
  });

  it('patches pods/<name>/status with both annotations set to the bare IP, keeping the others', async () => {
    await podIpAnnotator(kc)('calico-ns', 'web', '172.16.3.9');
    const pod = await core.readNamespacedPod({ namespace: 'calico-ns', name: 'web' });
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
