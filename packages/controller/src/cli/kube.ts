/**
 * The Kubernetes side of the `ipam` commands: the kubeconfig, the IPAM store on the CRDs, and the pods.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { IpamStore, LivePod } from '@hostnic/ipam';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { isNotFound, loadKubeConfig } from '@hostnic/runtime/kube';
import { livePodOf } from '../kube/pods.ts';

const PAGE_SIZE = 500;

/**
 * Every pod of the cluster that is not finished, page by page (one consistent list).
 * @param api - the core API
 * @param pageSize - pods per request
 */
export async function listLivePods(api: CoreV1Api, pageSize = PAGE_SIZE): Promise<LivePod[]> {
  const out: LivePod[] = [];
  let next: string | undefined;
  do {
    const page = await api.listPodForAllNamespaces({ limit: pageSize, ...(next === undefined ? {} : { _continue: next }) });
    for (const pod of page.items) {
      const live = livePodOf(pod);
      if (live !== undefined) out.push(live);
    }
    const token = page.metadata?._continue;
    next = token === undefined || token === '' ? undefined : token;
  } while (next !== undefined);
  return out;
}

/**
 * The names of every node of the cluster (address claims of other nodes are collected by `ipam check`).
 * @param api - the core API
 * @param pageSize - list page size
 */
export async function listNodeNames(api: CoreV1Api, pageSize = PAGE_SIZE): Promise<string[]> {
  const out: string[] = [];
  let next: string | undefined;
  do {
    const page = await api.listNode({ limit: pageSize, ...(next === undefined ? {} : { _continue: next }) });
    for (const node of page.items) if (node.metadata?.name !== undefined) out.push(node.metadata.name);
    const token = page.metadata?._continue;
    next = token === undefined || token === '' ? undefined : token;
  } while (next !== undefined);
  return out;
}

/**
 * Whether a pod exists (finished or not: a safety check must not guess that a pod's sandbox is gone).
 * @param api - the core API
 * @param namespace - the pod's namespace
 * @param name - the pod's name
 */
export async function podExists(api: CoreV1Api, namespace: string, name: string): Promise<boolean> {
  try {
    await api.readNamespacedPod({ namespace, name });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Kubernetes access of the CLI, one kubeconfig load per path. */
export interface KubeAccess {
  openStore(kubeconfig: string | undefined): Promise<IpamStore>;
  listLivePods(kubeconfig: string | undefined): Promise<LivePod[]>;
  listNodeNames(kubeconfig: string | undefined): Promise<string[]>;
  podExists(kubeconfig: string | undefined, namespace: string, name: string): Promise<boolean>;
}

/** The real cluster, through client-node. */
export function kubeAccess(): KubeAccess {
  const configs = new Map<string, KubeConfig>();
  const config = (path: string | undefined): KubeConfig => {
    const key = path ?? '';
    let kc = configs.get(key);
    if (kc === undefined) configs.set(key, (kc = loadKubeConfig(path, process.env, { homeConfig: true }).kc));
    return kc;
  };
  const core = (path: string | undefined): CoreV1Api => config(path).makeApiClient(CoreV1Api);
  return {
    openStore: async (path) => kubernetesIpamStoreFromKubeConfig(config(path)),
    listLivePods: async (path) => listLivePods(core(path)),
    listNodeNames: async (path) => listNodeNames(core(path)),
    podExists: async (path, namespace, name) => podExists(core(path), namespace, name),
  };
}
