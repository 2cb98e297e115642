/**
 * `@hostnic/ipam/kubernetes/client-node`: the Kubernetes store's two clients built from a client-node
 * `KubeConfig`. Apart from `@hostnic/ipam/kubernetes` so that a program that reaches the API another way does
 * not load client-node (importing it costs a Node process about 90 MiB).
 *
 * @example
 * import { KubeConfig } from '@kubernetes/client-node';
 * import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
 * const kc = new KubeConfig();
 * kc.loadFromDefault();
 * const store = kubernetesIpamStoreFromKubeConfig(kc);
 *
 * @packageDocumentation
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesIpamStore } from './store.ts';
import type { KubernetesClients, KubernetesStoreOptions } from './store.ts';

/**
 * client-node's `CustomObjectsApi` and `CoreV1Api` of a kubeconfig, as the store's clients.
 * @param kubeConfig - e.g. `kc.loadFromDefault()` or `kc.loadFromCluster()`
 */
export function clientNodeClients(kubeConfig: KubeConfig): KubernetesClients {
  return { customObjects: kubeConfig.makeApiClient(CustomObjectsApi), configMaps: kubeConfig.makeApiClient(CoreV1Api) };
}

/**
 * A store talking to the cluster of a kubeconfig through client-node.
 * @param kubeConfig - e.g. `kc.loadFromDefault()` or `kc.loadFromCluster()`
 * @param options - retries, paging, list cache
 */
export function kubernetesIpamStoreFromKubeConfig(kubeConfig: KubeConfig, options: KubernetesStoreOptions = {}): KubernetesIpamStore {
  return new KubernetesIpamStore(clientNodeClients(kubeConfig), options);
}
