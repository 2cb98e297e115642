/**
 * The Kubernetes side of the `ipam` commands: the kubeconfig, the IPAM store on the CRDs, and the pods.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { IpamStore, LivePod } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { isNotFound } from '../kube/status.ts';

/** No kubeconfig was given and none could be found. */
export class KubeConfigNotFoundError extends Error {
  override name = 'KubeConfigNotFoundError';

  constructor() {
    super('no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG, or run inside the cluster');
  }
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads a kubeconfig: the file given, else `$KUBECONFIG`, else `~/.kube/config`, else the in-cluster service
 * account. client-node would fall back to an unauthenticated localhost:8080; an operator is better served by
 * an error that says what to pass.
 * @param path - `--kubeconfig`, when given
 * @throws {@link KubeConfigNotFoundError}
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined && path !== '') {
    kc.loadFromFile(path);
    return kc;
  }
  const fromEnv = (process.env['KUBECONFIG'] ?? '') !== '';
  if (!fromEnv && !existsSync(join(homedir(), '.kube', 'config')) && !existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new KubeConfigNotFoundError();
  }
  kc.loadFromDefault();
  return kc;
}

const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);
const PAGE_SIZE = 500;

/** A pod whose phase is final (Succeeded or Failed): it holds no address any more. */
export function isFinishedPod(pod: V1Pod): boolean {
  return FINISHED_PHASES.has(pod.status?.phase ?? '');
}

/**
 * The live pod of an API Pod, or undefined for a finished one. The sandbox container ID is not part of the
 * Pod API, so `containerID` stays unknown; the consistency check then matches handles by `<ns>-<pod>-` prefix.
 * @param pod - a Pod from the API
 */
export function livePodOf(pod: V1Pod): LivePod | undefined {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  if (namespace === undefined || name === undefined) return undefined;
  if (isFinishedPod(pod)) return undefined;
  return { namespace, name };
}

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
  podExists(kubeconfig: string | undefined, namespace: string, name: string): Promise<boolean>;
}

/** The real cluster, through client-node. */
export function kubeAccess(): KubeAccess {
  const configs = new Map<string, KubeConfig>();
  const config = (path: string | undefined): KubeConfig => {
    const key = path ?? '';
    let kc = configs.get(key);
    if (kc === undefined) configs.set(key, (kc = loadKubeConfig(path)));
    return kc;
  };
  const core = (path: string | undefined): CoreV1Api => config(path).makeApiClient(CoreV1Api);
  return {
    openStore: async (path) => KubernetesIpamStore.fromKubeConfig(config(path)),
    listLivePods: async (path) => listLivePods(core(path)),
    podExists: async (path, namespace, name) => podExists(core(path), namespace, name),
  };
}
