/**
 * The original's six IPAM failure gauges [compat: dashboards and the deployed alerts use
 * them]: which part of an ADD or DEL failed, classified from the step and the IPAM error.
 */
import { NoPoolOrBlockError, PoolExhaustedError, parseBlockName } from '@hostnic/ipam';
import type { PodStep } from './errors.ts';

export const IpamFailure = {
  /** Allocation from the namespace's blocks failed. */
  allocFromBlock: 'alloc_from_block_failed',
  /** Allocation from the Default pools failed (and failures whose source cannot be told). */
  allocFromPool: 'alloc_from_pool_failed',
  /** The namespace maps to nothing. */
  allocResourceNotFound: 'alloc_resource_notfound',
  /** The address was allocated, a later node step of ADD failed. */
  allocFromHost: 'alloc_from_host_failed',
  /** DEL could not release the address. */
  freeFromPool: 'free_from_pool_failed',
  /** DEL could not remove the node's wiring or ARP entry. */
  freeFromHost: 'free_from_host_failed',
} as const;
export type IpamFailure = (typeof IpamFailure)[keyof typeof IpamFailure];

export const IPAM_FAILURES: readonly IpamFailure[] = Object.values(IpamFailure);

/** The failure kind of a failed ADD, from its step and the IPAM error behind it; undefined before the IPAM. */
export function addFailureKind(step: PodStep, cause: unknown): IpamFailure | undefined {
  if (step === 'validate' || step === 'read-pod' || step === 'parse-annotation') return undefined;
  if (step !== 'allocate-ip') return IpamFailure.allocFromHost;
  if (cause instanceof NoPoolOrBlockError) return IpamFailure.allocResourceNotFound;
  if (cause instanceof PoolExhaustedError && cause.searched.length > 0 && cause.searched.every((n) => parseBlockName(n) !== undefined)) {
    return IpamFailure.allocFromBlock;
  }
  return IpamFailure.allocFromPool;
}

/** The failure kind of a failed DEL. */
export function delFailureKind(step: PodStep): IpamFailure | undefined {
  if (step === 'release-ip') return IpamFailure.freeFromPool;
  if (step === 'unwire-pod') return IpamFailure.freeFromHost;
  return undefined;
}
