/**
 * The pods of this node, kept by list + watch (field selector `spec.nodeName=<node>`), so that an ADD reads
 * its pod's annotations from memory instead of GETting it, as the original's informer did: the runtime's pod
 * informer, restarted with a growing delay after a failed list or watch.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@hostnic/runtime';
import { podInformer } from '@hostnic/runtime/kube';
import type { Backoff, Informer } from '@hostnic/runtime/kube';

export type NodePodCache = Informer<V1Pod>;

/** Not started: the caller starts and stops it. */
export function nodePodCache(kubeConfig: KubeConfig, nodeName: string, log: Logger, backoff?: Backoff): NodePodCache {
  // No resync: nothing here acts on events, the cache is only read.
  return podInformer(kubeConfig, { name: 'node pods', fieldSelector: `spec.nodeName=${nodeName}`, resyncMs: 0, log, ...(backoff === undefined ? {} : { backoff }) });
}
