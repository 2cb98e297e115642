/**
 * The Kubernetes side of the `ipam` commands: the kubeconfig, the IPAM store on the CRDs, and the pods.
 */
import type { IpamStore, LivePod } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { KubeClient, configMapsApi, customObjectsApi, isNotFound, loadKubeAccess, resourcePath } from '@hostnic/runtime/kube/http';
import type { Node, Pod } from '../kube/objects.ts';
import { livePodOf } from '../kube/pods.ts';

const PAGE_SIZE = 500;

/** Each object of a collection, page by page (one consistent list), without holding every page at once. */
async function eachListed<T>(kube: Pick<KubeClient, 'list'>, path: string, pageSize: number, visit: (item: T) => void): Promise<void> {
  let next: string | undefined;
  do {
    const page = await kube.list<T>(path, { limit: pageSize, continue: next });
    for (const item of page.items) visit(item);
    const token = page.metadata.continue;
    next = token === undefined || token === '' ? undefined : token;
  } while (next !== undefined);
}

/**
 * Every pod of the cluster that is not finished.
 * @param kube - the API
 * @param pageSize - pods per request
 */
export async function listLivePods(kube: Pick<KubeClient, 'list'>, pageSize = PAGE_SIZE): Promise<LivePod[]> {
  const out: LivePod[] = [];
  await eachListed<Pod>(kube, resourcePath({ version: 'v1', plural: 'pods' }), pageSize, (pod) => {
    const live = livePodOf(pod);
    if (live !== undefined) out.push(live);
  });
  return out;
}

/**
 * The names of every node of the cluster (address claims of other nodes are collected by `ipam check`).
 * @param kube - the API
 * @param pageSize - list page size
 */
export async function listNodeNames(kube: Pick<KubeClient, 'list'>, pageSize = PAGE_SIZE): Promise<string[]> {
  const out: string[] = [];
  await eachListed<Node>(kube, resourcePath({ version: 'v1', plural: 'nodes' }), pageSize, (node) => {
    if (node.metadata?.name !== undefined) out.push(node.metadata.name);
  });
  return out;
}

/**
 * Whether a pod exists (finished or not: a safety check must not guess that a pod's sandbox is gone).
 * @param kube - the API
 * @param namespace - the pod's namespace
 * @param name - the pod's name
 */
export async function podExists(kube: Pick<KubeClient, 'get'>, namespace: string, name: string): Promise<boolean> {
  try {
    await kube.get(resourcePath({ version: 'v1', plural: 'pods', namespace, name }));
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

/** The real cluster: one client per kubeconfig path, loaded on first use. */
export function kubeAccess(): KubeAccess {
  const clients = new Map<string, Promise<KubeClient>>();
  const client = (path: string | undefined): Promise<KubeClient> => {
    const key = path ?? '';
    let c = clients.get(key);
    if (c === undefined) clients.set(key, (c = loadKubeAccess(path, process.env, { homeConfig: true }).then(({ access }) => new KubeClient(access))));
    return c;
  };
  return {
    openStore: async (path) => {
      const kube = await client(path);
      return new KubernetesIpamStore({ customObjects: customObjectsApi(kube), configMaps: configMapsApi(kube) });
    },
    listLivePods: async (path) => listLivePods(await client(path)),
    listNodeNames: async (path) => listNodeNames(await client(path)),
    podExists: async (path, namespace, name) => podExists(await client(path), namespace, name),
  };
}
