/**
 * The agent's Kubernetes access: the kubeconfig, the one read on the ADD path (the pod's annotations) and,
 * with `networkPolicy: calico`, the one write (the pod IP annotations).
 */

import { errorText } from '@hostnic/runtime';
import { httpStatusOf, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import { CniCode, PodError } from '../pods/index.ts';
import type { PodAnnotations, PodAnnotator, PodPresence } from '../pods/index.ts';
import type { NodePodCache, Pod } from './pod-cache.ts';

function podPath(namespace: string, name: string, subresource?: string): string {
  return resourcePath({ version: 'v1', plural: 'pods', namespace, name, subresource });
}

/**
 * A pod that is gone (404) has no annotations to honour, so ADD goes on without fixed IPs; any other failure
 * is thrown so that ADD answers "try again" (11) instead of silently ignoring a fixed-IP request.
 */
export function podAnnotationReader(kube: KubeClient, cache?: Pick<NodePodCache, 'get'>): PodAnnotations {
  return async (namespace, name) => {
    const cached = cache?.get(name, namespace);
    if (cached !== undefined) return cached.metadata?.annotations ?? {};
    try {
      const pod = await kube.get<Pod>(podPath(namespace, name));
      return pod.metadata?.annotations ?? {};
    } catch (e) {
      if (httpStatusOf(e) === 404) return undefined;
      throw e;
    }
  };
}

/**
 * Where a pod record's pod stands, for the release of pods gone without a DEL: 404 is gone, another node is
 * elsewhere; any other failure is unknown (nothing is released on it).
 */
function presenceOf(pod: Pod, nodeName: string): PodPresence {
  const node = pod.spec?.nodeName;
  if (node !== undefined && node !== '' && node !== nodeName) return { kind: 'elsewhere', node };
  const created = pod.metadata?.creationTimestamp;
  return { kind: 'here', createdAt: created === undefined ? undefined : new Date(created) };
}

export function podPresenceReader(
  kube: KubeClient,
  nodeName: string,
  cache?: Pick<NodePodCache, 'get' | 'hasSynced'>,
): (namespace: string, name: string) => Promise<PodPresence> {
  return async (namespace, name) => {
    if (cache !== undefined) {
      // The cache holds this node's pods only: absent there means deleted or moved; the caller's final look
      // (without the cache) tells which, and catches a cache that is behind.
      if (!cache.hasSynced) return { kind: 'unknown', reason: 'the pod cache is not synced yet' };
      const pod = cache.get(name, namespace);
      return pod === undefined ? { kind: 'gone' } : presenceOf(pod, nodeName);
    }
    try {
      return presenceOf(await kube.get<Pod>(podPath(namespace, name)), nodeName);
    } catch (e) {
      if (httpStatusOf(e) === 404) return { kind: 'gone' };
      return { kind: 'unknown', reason: errorText(e) };
    }
  };
}

export const CALICO_POD_IP_ANNOTATION = 'cni.projectcalico.org/podIP';
export const CALICO_POD_IPS_ANNOTATION = 'cni.projectcalico.org/podIPs';

/** No answer at all, or one the apiserver gives while overloaded or restarting: the runtime should retry. */
function transientStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * Patches the pod's status subresource: Calico reads the pod IP from
 * these annotations, and the status subresource is what a node's credentials may write. Both carry the bare
 * IP, as the original does. Strategic merge, as the spec says; for an annotations-only body it merges the
 * same as a JSON merge patch.
 */
export function podIpAnnotator(kube: KubeClient): PodAnnotator {
  return async (namespace, name, ip) => {
    const body = { metadata: { annotations: { [CALICO_POD_IP_ANNOTATION]: ip, [CALICO_POD_IPS_ANNOTATION]: ip } } };
    try {
      await kube.patch(podPath(namespace, name, 'status'), body, 'strategic');
    } catch (e) {
      const status = httpStatusOf(e);
      const text = `patching the Calico annotations of pod ${namespace}/${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${errorText(e)}`;
      if (transientStatus(status)) throw new PodError('annotate-pod', CniCode.tryAgain, `annotate-pod failed: ${text}`, { cause: e });
      throw new Error(text, { cause: e });
    }
  };
}
