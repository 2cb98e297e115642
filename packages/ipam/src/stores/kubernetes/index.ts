/**
 * `@hostnic/ipam/kubernetes`: the IPAM store on the cluster's CRDs (`network.qingcloud.com/v1alpha1`) with
 * optimistic concurrency on `resourceVersion`. It takes two small client interfaces and loads no Kubernetes
 * client itself; `@hostnic/ipam/kubernetes/client-node` builds them with the optional peer dependency
 * `@kubernetes/client-node` (2.x).
 *
 * @example
 * import { KubeConfig } from '@kubernetes/client-node';
 * import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
 * import { clientNodeClients } from '@hostnic/ipam/kubernetes/client-node';
 * const kc = new KubeConfig();
 * kc.loadFromDefault();
 * const store = new KubernetesIpamStore(clientNodeClients(kc));
 *
 * @packageDocumentation
 */
export type { RetryOptions } from './calls.ts';
export type { CustomKind, CustomResource } from './resources.ts';
export { RESOURCES } from './resources.ts';
export type {
  ClusterResourceRef,
  ConfigMapObject,
  ConfigMapsClient,
  CustomObjectsClient,
  DeleteOptionsBody,
  KubernetesClients,
  KubernetesListCache,
  KubernetesStoreOptions,
} from './store.ts';
export { KubernetesIpamStore } from './store.ts';
