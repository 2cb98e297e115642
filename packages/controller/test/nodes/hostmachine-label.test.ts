/**
 * The host machine node label: matched by instance id or InternalIP against the QingCloud cluster's nodes
 * (fake IaaS), patched on the nodes of the fake kube-apiserver, left alone when right, and never guessed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../src/kube/objects.ts';
import { createLogger } from '@hostnic/runtime';
import type { KubeObject } from '@hostnic/sandbox/kube';
import { HOSTMACHINE_LABEL, HostMachineLabeler } from '../../src/nodes/hostmachine-label.ts';
import { putNode, startHarness } from '../harness.ts';
import type { Harness } from '../harness.ts';

// Log lines are dropped: the tests read what the labeler returns and what the apiserver holds.
const log = createLogger({ level: 'error', destination: { write: () => undefined } });

describe('HostMachineLabeler against the fake apiserver and IaaS', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    h.fake.addCluster({
      cluster_id: 'cl-abc123',
      nodes: [
        { instance_id: 'i-aaa111', host_machine: 'pek3a-hm-1', private_ip: '10.0.0.5' },
        { instance_id: 'i-bbb222', host_machine: 'pek3a-hm-2', private_ip: '10.0.0.7' },
        { instance_id: 'i-ddd444', host_machine: 'not a label value!', private_ip: '10.0.0.9' },
      ],
    });
    putNode(h.kube, 'node-a', 'i-aaa111');
    // No instance id: matched by its InternalIP, as the original's node-patch did.
    h.kube.put('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.7' }] } } as KubeObject);
    putNode(h.kube, 'node-c', 'i-ccc333');
    putNode(h.kube, 'node-d', 'i-ddd444');
  });

  afterEach(async () => {
    await h.close();
  });

  const labels = async (): Promise<Record<string, string | undefined>> => {
    const list = await h.client.list<Node>('/api/v1/nodes');
    return Object.fromEntries(list.items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[HOSTMACHINE_LABEL]]));
  };

  const labeler = (clusterId: string | undefined): HostMachineLabeler =>
    new HostMachineLabeler({
      iaas: h.iaas,
      client: h.client,
      nodes: () => (h.kube.list('nodes') as unknown as Node[]),
      clusterId: () => clusterId,
      log,
    });

  it('labels matched nodes, says why the others are not, and patches nothing the second time', async () => {
    const first = await labeler('cl-abc123').run();
    expect(first.labelled).toEqual([
      { node: 'node-a', from: undefined, to: 'pek3a-hm-1' },
      { node: 'node-b', from: undefined, to: 'pek3a-hm-2' },
    ]);
    expect(first.unmatched.map((u) => u.node)).toEqual(['node-c', 'node-d']);
    expect(first.unmatched[0]?.reason).toContain('instance i-ccc333');
    expect(first.unmatched[1]?.reason).toContain('is not a label value');
    expect(first.failed).toEqual([]);
    expect(await labels()).toEqual({ 'node-a': 'pek3a-hm-1', 'node-b': 'pek3a-hm-2', 'node-c': undefined, 'node-d': undefined });

    const patches = (): number => h.kube.requestLog().filter((r) => r.method === 'PATCH' && r.path.includes('/nodes/')).length;
    const before = patches();
    expect((await labeler('cl-abc123').run()).labelled).toEqual([]);
    expect(patches()).toBe(before);
  });

  it('a wrong label is corrected; without a cluster id nothing is read or written', async () => {
    h.kube.put('nodes', { ...(h.kube.get('nodes', 'node-a') as KubeObject), metadata: { name: 'node-a', annotations: { 'node.beta.kubernetes.io/instance-id': 'i-aaa111' }, labels: { [HOSTMACHINE_LABEL]: 'old-host' } } } as KubeObject);
    const none = await labeler(undefined).run();
    expect(none).toEqual({ labelled: [], unmatched: [], failed: [] });
    expect(h.fake.requests({ action: 'DescribeClusterNodes' })).toEqual([]);
    const fixed = await labeler('cl-abc123').run();
    expect(fixed.labelled).toContainEqual({ node: 'node-a', from: 'old-host', to: 'pek3a-hm-1' });
    expect((await labels())['node-a']).toBe('pek3a-hm-1');
  });
});
