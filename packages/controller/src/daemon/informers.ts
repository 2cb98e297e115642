/**
 * The controller's caches: started on every replica, so that a stand-by that takes the lease over starts
 * with warm caches. Custom objects stay plain JSON here: the IPAM store and the reconcilers read them as
 * CRD-shaped data.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, IPAM_CONFIGMAP_NAME, IPAM_CONFIGMAP_NAMESPACE } from '@hostnic/ipam';
import type { Informer } from '@hostnic/runtime/kube';
import { CLUSTER_CONFIGMAP } from '../config/cluster-config.ts';
import { configMapInformer, customResourceInformer, namespaceInformer, nodeInformer, podInformer } from '@hostnic/runtime/kube';
import type { CustomObject, InformerSettings } from '@hostnic/runtime/kube';

const CRD_VERSION = 'v1alpha1';

function rawObject(raw: unknown): CustomObject {
  const o = raw as CustomObject | null;
  if (o === null || typeof o !== 'object' || typeof o.metadata?.name !== 'string') throw new Error('custom object without metadata.name');
  return o;
}

export function controllerInformers(kc: KubeConfig, settings: InformerSettings) {
  const crd = (plural: string): Informer<CustomObject> =>
    customResourceInformer(kc, { group: API_GROUP, version: CRD_VERSION, plural }, { ...settings, parse: rawObject });
  return {
    vxnetpools: crd('vxnetpools'),
    ippools: crd('ippools'),
    ipamblocks: crd('ipamblocks'),
    namespaces: namespaceInformer(kc, settings),
    pods: podInformer(kc, settings),
    nodes: nodeInformer(kc, settings),
    ipamConfig: configMapInformer(kc, IPAM_CONFIGMAP_NAMESPACE, IPAM_CONFIGMAP_NAME, settings),
    clusterConfig: configMapInformer(kc, CLUSTER_CONFIGMAP.namespace, CLUSTER_CONFIGMAP.name, settings),
  };
}

export type ControllerInformers = ReturnType<typeof controllerInformers>;

/** Every informer, for start, stop and sync. */
export function informerList(informers: ControllerInformers): Informer<{ metadata?: object }>[] {
  return Object.values(informers) as Informer<{ metadata?: object }>[];
}
