/**
 * The pods of this node, kept by list + watch (field selector `spec.nodeName=<node>`), so that an ADD reads
 * its pod's annotations from memory instead of GETting it, as the original's informer did: the lean
 * client's informer, restarted with a growing delay after a failed list or watch.
 */
import type { Logger } from '@hostnic/runtime';
import { KubeInformer } from '@hostnic/runtime/kube/http';
import type { Backoff, KubeClient, KubeObject } from '@hostnic/runtime/kube/http';

/** What the agent reads of a pod (the apiserver's JSON: timestamps are RFC 3339 strings). */
export interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

export type NodePodCache = KubeInformer<Pod>;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Keeps of a pod only what the agent reads, so that the cache of 110 pods holds names and annotations, not
 * their container specs and statuses.
 * @throws TypeError when the object has no `metadata.name` (the informer skips it)
 */
export function slimPod(raw: unknown): Pod {
  const metadata = record(record(raw)?.['metadata']);
  const name = text(metadata?.['name']);
  if (metadata === undefined || name === undefined) throw new TypeError('the pod has no metadata.name');
  const annotations = record(metadata['annotations']) as Record<string, string> | undefined;
  const nodeName = text(record(record(raw)?.['spec'])?.['nodeName']);
  return {
    metadata: {
      name,
      namespace: text(metadata['namespace']),
      uid: text(metadata['uid']),
      resourceVersion: text(metadata['resourceVersion']),
      creationTimestamp: text(metadata['creationTimestamp']),
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec: { nodeName },
  };
}

/** Not started: the caller starts and stops it. */
export function nodePodCache(kube: KubeClient, nodeName: string, log: Logger, backoff?: Backoff): NodePodCache {
  // No resync: nothing here acts on events, the cache is only read.
  return new KubeInformer<Pod>({
    name: 'node pods',
    client: kube,
    path: '/api/v1/pods',
    fieldSelector: `spec.nodeName=${nodeName}`,
    parse: slimPod,
    resyncMs: 0,
    log,
    backoff,
  });
}
