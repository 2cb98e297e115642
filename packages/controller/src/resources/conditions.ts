/**
 * Conditions in `status.conditions` (the metav1.Condition shape), so that `kubectl describe vxnetpool v-pool`
 * says what is wrong without reading the controller's logs.
 */

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export const ConditionType = {
  /** Every vxnet of the spec is prepared in the IaaS and has its IPPool and blocks. */
  Ready: 'Ready',
  /** ConfigMap hostnic-ipam-config is valid and names only existing pools and blocks. */
  MappingValid: 'MappingValid',
  /** Auto mode found a free block for every namespace that needed one. */
  SubnetsAvailable: 'SubnetsAvailable',
  /** Vxnets removed from the spec whose pools still hold addresses. */
  Draining: 'Draining',
} as const;

/**
 * The conditions with one set; `lastTransitionTime` changes only when the status does, so repeated syncs
 * that find the same state write nothing.
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: ConditionInput, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const old = index < 0 ? undefined : list[index];
  const lastTransitionTime = old !== undefined && old.status === next.status ? old.lastTransitionTime : now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  if (index < 0) list.push(merged);
  else list[index] = merged;
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
