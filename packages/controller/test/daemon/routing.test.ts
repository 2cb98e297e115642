import { describe, expect, it } from 'vitest';
import { LABEL_POOL_NAME } from '@hostnic/ipam';
import type { InformerEvent, InformerEventType } from '@hostnic/runtime/kube/http';
import type { ConfigMap, CustomObject, Namespace } from '../../src/kube/objects.ts';
import { MAPPING_KEY, routeClusterConfig, routeIPAMBlock, routeIPPool, routeIpamConfig, routeNamespace, routeVxNetPool } from '../../src/daemon/routing.ts';

const VXNET = { queue: 'vxnetpool', key: 'v-pool' };
const MAPPING = { queue: 'mapping', key: MAPPING_KEY };

function ev<T>(type: InformerEventType, object: T, old?: T): InformerEvent<T> {
  return old === undefined ? { type, object } : { type, object, old };
}

function vpool(ready: boolean, name = 'v-pool'): CustomObject {
  return { metadata: { name }, status: { ready } } as CustomObject;
}

/** A /30 block of pool vxnet-a with `allocated` of its 4 addresses taken (none reserved). */
function block(allocated: number): CustomObject {
  return {
    metadata: { name: '4100-172-16-3-0-30', labels: { [LABEL_POOL_NAME]: 'vxnet-a' } },
    spec: {
      cidr: '172.16.3.0/30',
      allocations: [0, 1, 2, 3].map((i) => (i < allocated ? 0 : null)),
      unallocated: [0, 1, 2, 3].slice(allocated),
      attributes: allocated > 0 ? [{ handle_id: 'default-p-1', secondary: {} }] : [],
      strictAffinity: false,
    },
  } as unknown as CustomObject;
}

describe('routing of cache events to queue keys', () => {
  it('v-pool: reconcile it; all namespaces only when it turns ready', () => {
    expect(routeVxNetPool(ev('update', vpool(false), vpool(false)))).toEqual({ keys: [VXNET], allNamespaces: false });
    expect(routeVxNetPool(ev('update', vpool(true), vpool(false)))).toEqual({ keys: [VXNET], allNamespaces: true });
    expect(routeVxNetPool(ev('add', vpool(true)))).toEqual({ keys: [VXNET], allNamespaces: true });
    expect(routeVxNetPool(ev('resync', vpool(true), vpool(true)))).toEqual({ keys: [VXNET], allNamespaces: false });
    expect(routeVxNetPool(ev('add', vpool(true, 'another')))).toEqual({ keys: [], allNamespaces: false });
  });

  it('IPPool: its own key; a change (not a resync) also v-pool and the mapping', () => {
    const pool = { metadata: { name: 'vxnet-a' } } as CustomObject;
    expect(routeIPPool(ev('resync', pool)).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }]);
    expect(routeIPPool(ev('update', pool)).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }, VXNET, MAPPING]);
  });

  it('IPAMBlock: its pool; add/delete also v-pool and the mapping; full or empty blocks their owners', () => {
    const owners = (b: string): string[] => (b === '4100-172-16-3-0-30' ? ['team-a', 'team-b'] : []);
    expect(routeIPAMBlock(ev('update', block(2)), owners).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }]);
    expect(routeIPAMBlock(ev('add', block(2)), owners).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }, VXNET, MAPPING]);
    const ownersQueued = [{ queue: 'namespace', key: 'team-a' }, { queue: 'namespace', key: 'team-b' }];
    expect(routeIPAMBlock(ev('update', block(4)), owners).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }, ...ownersQueued]);
    expect(routeIPAMBlock(ev('update', block(0)), owners).keys).toEqual([{ queue: 'ippool', key: 'vxnet-a' }, ...ownersQueued]);
  });

  it('namespaces, hostnic-ipam-config and clusterconfig', () => {
    expect(routeNamespace(ev<Namespace>('add', { metadata: { name: 'team-a' } })).keys).toEqual([{ queue: 'namespace', key: 'team-a' }]);
    expect(routeNamespace(ev<Namespace>('add', {})).keys).toEqual([]);
    expect(routeIpamConfig(ev<ConfigMap>('update', {}))).toEqual({ keys: [MAPPING], allNamespaces: true });
    expect(routeIpamConfig(ev<ConfigMap>('resync', {}))).toEqual({ keys: [], allNamespaces: false });
    expect(routeClusterConfig()).toEqual({ keys: [VXNET], allNamespaces: false });
  });
});
