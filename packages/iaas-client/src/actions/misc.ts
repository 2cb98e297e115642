import type { QingCloudApi } from '../api.ts';
import type { AccessKey, Cluster, ClusterNode } from '../types.ts';
import { decodeAccessKey, decodeCluster, decodeClusterNode } from './decoders.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireList, requireNonEmpty } from './validate.ts';

export interface ResourceTagPair {
  tagId: string;
  resourceId: string;
  /** e.g. `nic`. */
  resourceType: string;
}

/** Tags resources. Attaching a tag twice changes nothing, so it is retried freely. */
export async function attachTags(
  api: QingCloudApi,
  pairs: readonly ResourceTagPair[],
  signal?: AbortSignal,
): Promise<void> {
  const action = 'AttachTags';
  pairs.forEach((p, i) => {
    requireNonEmpty(action, `pairs[${i}].tagId`, p.tagId);
    requireNonEmpty(action, `pairs[${i}].resourceId`, p.resourceId);
    requireNonEmpty(action, `pairs[${i}].resourceType`, p.resourceType);
  });
  requireList(action, 'pairs', pairs.map((p) => p.tagId));
  await api.call(
    action,
    { resource_tag_pairs: pairs.map((p) => ({ tag_id: p.tagId, resource_id: p.resourceId, resource_type: p.resourceType })) },
    { signal, idempotent: true, decode: () => undefined },
  );
}

export async function describeClusters(api: QingCloudApi, clusters: readonly string[], options?: PageOptions): Promise<Cluster[]> {
  return listAll(api, 'DescribeClusters', { clusters }, 'cluster_set', decodeCluster, options);
}

export async function describeClusterNodes(api: QingCloudApi, cluster: string, options?: PageOptions): Promise<ClusterNode[]> {
  requireNonEmpty('DescribeClusterNodes', 'cluster', cluster);
  return listAll(api, 'DescribeClusterNodes', { cluster }, 'node_set', decodeClusterNode, options);
}

export async function describeAccessKeys(
  api: QingCloudApi,
  accessKeys: readonly string[],
  options?: PageOptions,
): Promise<AccessKey[]> {
  return listAll(api, 'DescribeAccessKeys', { access_keys: accessKeys, verbose: 0 }, 'access_key_set', decodeAccessKey, options);
}
