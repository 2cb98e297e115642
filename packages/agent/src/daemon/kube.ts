/** The agent's Kubernetes access: the kubeconfig and the one read on the ADD path (the pod's annotations). */

import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { PodAnnotations } from '../pods/index.ts';

/** `--kubeconfig`, else `KUBECONFIG`, else the in-cluster service account (the DaemonSet's case). */
export function loadKubeConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>>): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  const fromEnv = env['KUBECONFIG'];
  const chosen = file !== undefined && file !== '' ? file : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  if (chosen !== undefined) {
    kc.loadFromFile(chosen);
    return { kc, source: chosen };
  }
  kc.loadFromCluster();
  return { kc, source: 'in-cluster' };
}

function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A pod that is gone (404) has no annotations to honour, so ADD goes on without fixed IPs; any other failure
 * is thrown so that ADD answers "try again" (11) instead of silently ignoring a fixed-IP request.
 */
export function podAnnotationReader(kc: KubeConfig): PodAnnotations {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name) => {
    try {
      const pod = await core.readNamespacedPod({ name, namespace });
      return pod.metadata?.annotations ?? {};
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  };
}
