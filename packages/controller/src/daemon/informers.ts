/**
 * The controller's caches: started on every replica, so that a stand-by that takes the lease over starts
 * with warm caches. Custom objects stay plain JSON here: the IPAM store and the reconcilers read them as
 * CRD-shaped data.
 */
import { API_GROUP, IPAM_CONFIGMAP_NAME, IPAM_CONFIGMAP_NAMESPACE } from '@hostnic/ipam';
import type { Logger } from '@hostnic/runtime';
import { KubeInformer, resourcePath } from '@hostnic/runtime/kube/http';
import type { Backoff, KubeClient, KubeObject } from '@hostnic/runtime/kube/http';
import { CLUSTER_CONFIGMAP } from '../config/cluster-config.ts';
import type { ConfigMap, CustomObject, Namespace, Node, Pod } from '../kube/objects.ts';

const CRD_VERSION = 'v1alpha1';

export interface InformerSettings {
  readonly resyncMs?: number;
  readonly backoff?: Backoff;
  readonly log?: Logger;
}

/** A custom object needs its envelope; the rest of its shape is the reader's to check. */
function customObject(raw: unknown): CustomObject {
  const o = raw as Partial<CustomObject> | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError('custom object is not a JSON object');
  if (typeof o.metadata?.name !== 'string') throw new TypeError('custom object without metadata.name');
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') throw new TypeError(`custom object ${o.metadata.name} without apiVersion or kind`);
  return o as CustomObject;
}

export function controllerInformers(client: KubeClient, settings: InformerSettings) {
  const informer = <T extends KubeObject>(name: string, path: string, more: { fieldSelector?: string; parse?: (raw: unknown) => T } = {}): KubeInformer<T> =>
    new KubeInformer<T>({ name, client, path, ...settings, ...more });
  const crd = (plural: string): KubeInformer<CustomObject> =>
    informer(plural, resourcePath({ group: API_GROUP, version: CRD_VERSION, plural }), { parse: customObject });
  // One ConfigMap: its namespace's collection narrowed to the name, so that a create after start is seen.
  const configMap = (namespace: string, name: string): KubeInformer<ConfigMap> =>
    informer(`configmap ${namespace}/${name}`, resourcePath({ version: 'v1', plural: 'configmaps', namespace }), { fieldSelector: `metadata.name=${name}` });
  return {
    vxnetpools: crd('vxnetpools'),
    ippools: crd('ippools'),
    ipamblocks: crd('ipamblocks'),
    namespaces: informer<Namespace>('namespaces', resourcePath({ version: 'v1', plural: 'namespaces' })),
    pods: informer<Pod>('pods', resourcePath({ version: 'v1', plural: 'pods' })),
    nodes: informer<Node>('nodes', resourcePath({ version: 'v1', plural: 'nodes' })),
    ipamConfig: configMap(IPAM_CONFIGMAP_NAMESPACE, IPAM_CONFIGMAP_NAME),
    clusterConfig: configMap(CLUSTER_CONFIGMAP.namespace, CLUSTER_CONFIGMAP.name),
  };
}

export type ControllerInformers = ReturnType<typeof controllerInformers>;

/** Every informer, for start, stop and sync. */
export function informerList(informers: ControllerInformers): KubeInformer<KubeObject>[] {
  return Object.values(informers) as KubeInformer<KubeObject>[];
}
