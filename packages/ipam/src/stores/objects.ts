/**
 * Rules every store applies to the objects it keeps, whatever the storage: JSON copies, valid names, the Go
 * version's deleted markers, pool status handling, the pool label of blocks.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors.ts';
import { isDns1123Subdomain } from '../naming.ts';
import type { StoreKind } from '../store-errors.ts';
import type { IPAMBlock, IPPool, IPPoolStatus } from '../types.ts';
import { IPAM_CONFIGMAP_NAME, IPAM_CONFIGMAP_NAMESPACE, LABEL_POOL_NAME } from '../types.ts';

/** The name under which store errors report the mapping ConfigMap. */
export const IPAM_CONFIG_OBJECT_NAME = `${IPAM_CONFIGMAP_NAMESPACE}/${IPAM_CONFIGMAP_NAME}`;

/**
 * A deep copy as plain JSON data: `undefined` members vanish, as they would through any real storage, so
 * every store returns the same shapes.
 * @param value - JSON-compatible data
 */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Checks an object name as Kubernetes would, so that data kept in an embedded store can move to CRDs.
 * @param kind - the kind, for the message
 * @param name - the name
 * @throws {@link InvalidArgumentError}
 */
export function checkObjectName(kind: StoreKind, name: unknown): string {
  if (typeof name !== 'string' || !isDns1123Subdomain(name)) {
    throw new InvalidArgumentError(
      'metadata.name',
      `of ${kind} ${JSON.stringify(name)} is not a lower-case RFC 1123 name of at most 253 characters`,
    );
  }
  return name;
}

/**
 * Whether a block or handle carries the Go version's two-phase delete marker (`spec.deleted: true`).
 * @param object - a block or handle as read
 */
export function isMarkedDeleted(object: unknown): boolean {
  if (typeof object !== 'object' || object === null) return false;
  const spec = (object as { spec?: unknown }).spec;
  return typeof spec === 'object' && spec !== null && (spec as { deleted?: unknown }).deleted === true;
}

/**
 * Whether a block belongs to a pool by its label.
 * @param block - the block
 * @param pool - the pool name
 */
export function blockInPool(block: IPAMBlock, pool: string): boolean {
  return block.metadata.labels?.[LABEL_POOL_NAME] === pool;
}

/**
 * A pool as created: without status (the Kubernetes status subresource ignores it on create).
 * @param pool - the pool given
 */
export function poolWithoutStatus(pool: IPPool): IPPool {
  const { status: _ignored, ...rest } = pool;
  return rest;
}

/**
 * A pool as updated: metadata and spec from the caller, status from the store.
 * @param pool - the pool given
 * @param status - the stored status
 */
export function poolWithStatus(pool: IPPool, status: IPPoolStatus | undefined): IPPool {
  const rest = poolWithoutStatus(pool);
  return status === undefined ? rest : { ...rest, status };
}
