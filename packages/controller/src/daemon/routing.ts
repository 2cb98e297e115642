/**
 * Which work queue keys each cache event calls for: pure functions from an informer event (and, for blocks,
 * the namespaces that own a block) to queue keys, so that the routing is tested without a cluster.
 */
import type { IPAMBlock } from '@hostnic/ipam';
import { LABEL_POOL_NAME, VXNET_POOL_NAME, freeCount, isBlockEmpty } from '@hostnic/ipam';
import type { InformerEvent } from '@hostnic/runtime/kube/http';
import type { ConfigMap, CustomObject, Namespace } from '../kube/objects.ts';

export type QueueName = 'vxnetpool' | 'ippool' | 'namespace' | 'mapping';

/** The one key of the mapping queue: the mapping is validated as a whole. */
export const MAPPING_KEY = 'mapping';

export interface Routing {
  readonly keys: readonly { readonly queue: QueueName; readonly key: string }[];
  /** Every namespace is queued again (the mapping or the pool's readiness changed). */
  readonly allNamespaces: boolean;
}

const NOTHING: Routing = { keys: [], allNamespaces: false };
const VXNET = { queue: 'vxnetpool', key: VXNET_POOL_NAME } as const;
const MAPPING = { queue: 'mapping', key: MAPPING_KEY } as const;

function isReady(o: CustomObject | undefined): boolean {
  return (o?.status as { ready?: boolean } | undefined)?.ready === true;
}

/** v-pool: reconcile it; when it becomes ready, namespaces waiting for it get their subnets. */
export function routeVxNetPool(e: InformerEvent<CustomObject>): Routing {
  if (e.object.metadata.name !== VXNET_POOL_NAME) return NOTHING;
  return { keys: [VXNET], allNamespaces: !isReady(e.old) && isReady(e.object) };
}

/** An IPPool: its own status; a real change (not a resync) also moves v-pool's status and the mapping. */
export function routeIPPool(e: InformerEvent<CustomObject>): Routing {
  const name = e.object.metadata.name;
  const keys: Routing['keys'][number][] = name === undefined ? [] : [{ queue: 'ippool', key: name }];
  if (e.type !== 'resync') keys.push(VXNET, MAPPING);
  return { keys, allNamespaces: false };
}

/**
 * A block: its pool's status; a new or deleted block also v-pool's status and the mapping; a full or empty
 * block its owning namespaces (auto mode may give them another block or take this one back).
 */
export function routeIPAMBlock(e: InformerEvent<CustomObject>, ownersOf: (block: string) => Iterable<string>): Routing {
  const keys: Routing['keys'][number][] = [];
  const pool = e.object.metadata.labels?.[LABEL_POOL_NAME];
  if (pool !== undefined) keys.push({ queue: 'ippool', key: pool });
  if (e.type === 'add' || e.type === 'delete') keys.push(VXNET, MAPPING);
  const block = e.object as unknown as IPAMBlock;
  if (block.spec !== undefined && (freeCount(block.spec) === 0 || isBlockEmpty(block.spec))) {
    for (const ns of ownersOf(block.metadata.name)) keys.push({ queue: 'namespace', key: ns });
  }
  return { keys, allNamespaces: false };
}

export function routeNamespace(e: InformerEvent<Namespace>): Routing {
  const name = e.object.metadata?.name;
  return name === undefined ? NOTHING : { keys: [{ queue: 'namespace', key: name }], allNamespaces: false };
}

/** hostnic-ipam-config: the mapping is validated again and every namespace follows it. */
export function routeIpamConfig(e: InformerEvent<ConfigMap>): Routing {
  return e.type === 'resync' ? NOTHING : { keys: [MAPPING], allNamespaces: true };
}

/** clusterconfig (the security group, the tags): v-pool's preparation may change. */
export function routeClusterConfig(): Routing {
  return { keys: [VXNET], allNamespaces: false };
}
