/**
 * Which leaked NICs to remove (spec architecture 5: "with a grace period and a second look before deleting").
 * Pure: the janitor feeds it what DescribeNics returned, the node inventory and what the previous sweeps saw.
 *
 * Safety comes first, because deleting a NIC a live pod uses cuts it off:
 * - only NICs provably this cluster's are candidates (named after one of its instances, or carrying its tag);
 * - a NIC attached to a current node is never touched: its agent owns it;
 * - nothing happens on first sight, and only after the same state held for the whole grace period; any change
 *   of status or instance starts the wait again.
 */
import type { Nic } from '@hostnic/iaas-client';
import type { InventoryView } from './node-identity.ts';
import { isInstanceId } from './node-identity.ts';

/** The agent names every NIC it creates `hostnic_<instance-id>` [compat]. */
export const NIC_NAME_PREFIX = 'hostnic_';
export const DEFAULT_NIC_GRACE_MS = 10 * 60_000;
/** Unattached NICs of a live node wait this many grace periods: its agent may be between create and attach. */
export const OWN_NODE_GRACE_FACTOR = 3;

/** What a sweep saw of a NIC; carried to the next sweep. */
export interface NicObservation {
  /** When this state (status and instance) was first seen, ms. */
  readonly firstSeen: number;
  readonly status: string;
  readonly instanceId: string;
  /**
   * The janitor asked the IaaS to detach the NIC. Seeing it unattached afterwards is the expected outcome, not
   * a change, so the delete follows without a new grace period.
   */
  readonly detaching?: boolean;
}

export type NicObservations = ReadonlyMap<string, NicObservation>;

export interface NicPlanInput {
  readonly nics: readonly Nic[];
  readonly inventory: InventoryView;
  /** Tag ids; a NIC carrying any of them is this cluster's. */
  readonly clusterTags: readonly string[];
  readonly previous: NicObservations;
  readonly now: number;
  /** For NICs attached to non-nodes and for unattached NICs (default 10 min). */
  readonly graceMs?: number;
  /** For unattached NICs that may belong to a live node's agent (default 3 × graceMs). */
  readonly ownNodeGraceMs?: number;
}

export type NicActionKind = 'detach-and-delete' | 'delete';

export interface NicAction {
  readonly kind: NicActionKind;
  readonly nicId: string;
  /** What the second look compares against. */
  readonly nicName: string;
  readonly vxnetId: string;
  /** The instance it is attached to; '' for 'delete'. */
  readonly instanceId: string;
  readonly reason: string;
}

/** Stable words for logs and metrics. */
export const NicSkipCode = {
  /** A primary NIC (role 1). */
  Primary: 'primary',
  /** Carries a cluster tag but is not named `hostnic_…`: not made by the agent. */
  NotHostnic: 'not-hostnic',
  /** Named after an instance that is not this cluster's, and no cluster tag. */
  Foreign: 'foreign',
  /** Attached to a current node. */
  LiveNode: 'live-node',
  /** Attached to an unknown instance while some nodes have no known instance id. */
  UnidentifiedNodes: 'unidentified-nodes',
  /** No current node is known: the node list is surely incomplete. */
  NoNodes: 'no-nodes',
  /** A status other than available / in-use (a transition under way). */
  Transitional: 'transitional',
  /** Seen for the first time, or changed since the last sweep. */
  FirstSight: 'first-sight',
  /** Waiting out the grace period. */
  Grace: 'grace',
  /** The second look right before acting found the NIC changed. */
  Changed: 'changed',
} as const;
export type NicSkipCode = (typeof NicSkipCode)[keyof typeof NicSkipCode];

export interface NicSkip {
  readonly nicId: string;
  readonly code: NicSkipCode;
  readonly reason: string;
}

export interface NicPlan {
  readonly actions: readonly NicAction[];
  /** To pass as `previous` next time: NICs being watched or acted on; the rest are forgotten. */
  readonly observations: Map<string, NicObservation>;
  readonly skipped: readonly NicSkip[];
  /** NICs that will be acted on if they stay as they are (first sight or in grace). */
  readonly pending: number;
}

export class NicPlanInputError extends Error {
  override name = 'NicPlanInputError';
}

/** The instance id in a `hostnic_<id>` name, if it has that form. */
export function instanceIdOfNicName(name: string): string | undefined {
  if (!name.startsWith(NIC_NAME_PREFIX)) return undefined;
  const id = name.slice(NIC_NAME_PREFIX.length);
  return isInstanceId(id) ? id : undefined;
}

/** Whether a NIC is worth a look at all: the janitor lists every NIC of the account and keeps these. */
export function isCandidateNic(nic: Pick<Nic, 'nicName' | 'tags'>, clusterTags: ReadonlySet<string>): boolean {
  return nic.nicName.startsWith(NIC_NAME_PREFIX) || nic.tags.some((t) => clusterTags.has(t));
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 10 || Number.isInteger(m) ? `${Math.round(m)}m` : `${m.toFixed(1)}m`;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new NicPlanInputError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

/** An unattached NIC a live node's agent may be about to attach (or is releasing itself). */
function mayBelongToLiveAgent(nameId: string | undefined, inventory: InventoryView): boolean {
  if (nameId !== undefined && inventory.current.has(nameId)) return true;
  if (nameId !== undefined && inventory.departed.has(nameId)) return false;
  return inventory.unidentified > 0;
}

type Verdict =
  | { readonly skip: NicSkipCode; readonly reason: string }
  | { readonly kind: NicActionKind; readonly graceMs: number; readonly why: string };

export function planNicCleanup(input: NicPlanInput): NicPlan {
  const { now, previous } = input;
  // Read once: a NodeInventory builds these views on every access.
  const inventory: InventoryView = {
    current: input.inventory.current,
    departed: input.inventory.departed,
    unidentified: input.inventory.unidentified,
  };
  const graceMs = nonNegative('graceMs', input.graceMs ?? DEFAULT_NIC_GRACE_MS);
  const ownNodeGraceMs = nonNegative('ownNodeGraceMs', input.ownNodeGraceMs ?? OWN_NODE_GRACE_FACTOR * graceMs);
  const tags = new Set(input.clusterTags);
  const actions: NicAction[] = [];
  const skipped: NicSkip[] = [];
  const observations = new Map<string, NicObservation>();
  let pending = 0;

  const verdictOf = (nic: Nic): Verdict => {
    const nameId = instanceIdOfNicName(nic.nicName);
    const tagged = nic.tags.some((t) => tags.has(t));
    if (nic.role !== 0) return { skip: NicSkipCode.Primary, reason: `primary NIC (role ${nic.role}) of ${nic.instanceId || 'no instance'}` };
    if (!nic.nicName.startsWith(NIC_NAME_PREFIX)) {
      return { skip: NicSkipCode.NotHostnic, reason: `carries a cluster tag but its name ${JSON.stringify(nic.nicName)} is not ${NIC_NAME_PREFIX}…` };
    }
    const namedOurs = nameId !== undefined && (inventory.current.has(nameId) || inventory.departed.has(nameId));
    if (!namedOurs && !tagged) {
      return { skip: NicSkipCode.Foreign, reason: `${nic.nicName} is not named after an instance of this cluster and has no cluster tag` };
    }
    if (inventory.current.size === 0) {
      return { skip: NicSkipCode.NoNodes, reason: 'no current node is known, so the node list cannot be trusted' };
    }
    if (nic.status === 'in-use' && nic.instanceId !== '') {
      const instance = nic.instanceId;
      if (inventory.current.has(instance)) return { skip: NicSkipCode.LiveNode, reason: `attached to current node ${instance}` };
      const departedAt = inventory.departed.get(instance);
      if (departedAt === undefined && inventory.unidentified > 0) {
        return {
          skip: NicSkipCode.UnidentifiedNodes,
          reason: `attached to ${instance}, which may be one of the ${inventory.unidentified} node(s) without a known instance id`,
        };
      }
      const where = departedAt === undefined
        ? `${instance}, which has never been a node of this cluster`
        : `${instance}, which stopped being a node ${minutes(now - departedAt)} ago`;
      return { kind: 'detach-and-delete', graceMs, why: `attached to ${where}` };
    }
    if (nic.status === 'available' && nic.instanceId === '') {
      const owner = nameId === undefined ? 'tagged' : inventory.current.has(nameId) ? `of current node ${nameId}` : `of ${nameId}`;
      return { kind: 'delete', graceMs: mayBelongToLiveAgent(nameId, inventory) ? ownNodeGraceMs : graceMs, why: `unattached NIC ${owner}` };
    }
    return { skip: NicSkipCode.Transitional, reason: `status ${JSON.stringify(nic.status)} on ${nic.instanceId || 'no instance'}` };
  };

  for (const nic of input.nics) {
    if (!isCandidateNic(nic, tags)) continue;
    const verdict = verdictOf(nic);
    const prev = previous.get(nic.nicId);
    if ('skip' in verdict) {
      // A distrusted node list says nothing about the NIC: keep the watch as it was.
      if (verdict.skip === NicSkipCode.NoNodes && prev !== undefined) observations.set(nic.nicId, prev);
      skipped.push({ nicId: nic.nicId, code: verdict.skip, reason: verdict.reason });
      continue;
    }
    const same = prev !== undefined && prev.status === nic.status && prev.instanceId === nic.instanceId;
    const detachedByUs = prev?.detaching === true && prev.status === 'in-use' && nic.status === 'available';
    let obs: NicObservation;
    if (same || detachedByUs) {
      obs = { firstSeen: prev.firstSeen, status: nic.status, instanceId: nic.instanceId, ...(prev.detaching ? { detaching: true } : {}) };
    } else {
      observations.set(nic.nicId, { firstSeen: now, status: nic.status, instanceId: nic.instanceId });
      pending++;
      const what = prev === undefined ? 'first sight' : `changed since the last sweep (was ${prev.status} on ${prev.instanceId || 'no instance'})`;
      skipped.push({ nicId: nic.nicId, code: NicSkipCode.FirstSight, reason: `${verdict.why}: ${what}` });
      continue;
    }
    observations.set(nic.nicId, obs);
    const age = now - obs.firstSeen;
    // Our own detach already waited out the grace of the attached state.
    const due = (verdict.kind === 'delete' && obs.detaching === true) || age >= verdict.graceMs;
    if (!due) {
      pending++;
      skipped.push({
        nicId: nic.nicId,
        code: NicSkipCode.Grace,
        reason: `${verdict.why}: unchanged for ${minutes(age)} of a ${minutes(verdict.graceMs)} grace period`,
      });
      continue;
    }
    const reason = obs.detaching === true && verdict.kind === 'delete'
      ? `${verdict.why}: detached by the janitor`
      : `${verdict.why}: unchanged for ${minutes(age)} (grace ${minutes(verdict.graceMs)})`;
    actions.push({
      kind: verdict.kind,
      nicId: nic.nicId,
      nicName: nic.nicName,
      vxnetId: nic.vxnetId,
      instanceId: nic.instanceId,
      reason,
    });
  }
  return { actions, observations, skipped, pending };
}
