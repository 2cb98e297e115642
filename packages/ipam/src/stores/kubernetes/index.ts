/**
 * `@hostnic/ipam/kubernetes`: the IPAM store on the cluster's CRDs (`network.qingcloud.com/v1alpha1`) with
 * optimistic concurrency on `resourceVersion`. Needs the optional peer dependency `@kubernetes/client-node`
 * (2.x).
 *
 * @example
 * import { KubeConfig } from '@kubernetes/client-node';
 * import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
 * const kc = new KubeConfig();
 * kc.loadFromDefault();
 * const store = KubernetesIpamStore.fromKubeConfig(kc);
 *
 * @packageDocumentation
 */
export type { RetryOptions } from './calls.ts';
export type { CustomKind, CustomResource } from './resources.ts';
export { RESOURCES } from './resources.ts';
export type {
  ClusterResourceRef,
  ConfigMapsClient,
  CustomObjectsClient,
  KubernetesClients,
  KubernetesListCache,
  KubernetesStoreOptions,
} from './store.ts';
export { KubernetesIpamStore } from './store.ts';
