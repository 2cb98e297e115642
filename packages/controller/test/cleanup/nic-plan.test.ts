import type { Nic } from '@hostnic/iaas-client';
import { describe, expect, it } from 'vitest';
import {
  NicPlanInputError,
  NicSkipCode,
  instanceIdOfNicName,
  planNicCleanup,
} from '../../src/cleanup/index.ts';
import type { InventoryView, NicObservation, NicPlan, NicPlanInput } from '../../src/cleanup/index.ts';
import { CLUSTER_TAG, GONE, GRACE, LIVE_1, LIVE_2, MINUTE, OTHER, OTHER_TAG, STRANGER, T0, nicOf } from './helpers.ts';

const INVENTORY: InventoryView = {
  current: new Set([LIVE_1, LIVE_2]),
  departed: new Map([[GONE, T0 - 30 * MINUTE]]),
  unidentified: 0,
};

const onGone = nicOf({ nicId: '52:54:00:00:00:01', nicName: `hostnic_${GONE}`, status: 'in-use', instanceId: GONE });
const loose = nicOf({ nicId: '52:54:00:00:00:02', nicName: `hostnic_${GONE}` });

type Extra = Partial<Omit<NicPlanInput, 'nics' | 'previous' | 'now'>>;

function plan(nics: readonly Nic[], now: number, previous: ReadonlyMap<string, NicObservation> = new Map(), extra: Extra = {}): NicPlan {
  return planNicCleanup({ nics, inventory: INVENTORY, clusterTags: [CLUSTER_TAG], previous, now, graceMs: GRACE, ...extra });
}

/** Sweeps at the given times, each fed the observations of the one before; returns the last plan. */
function sweeps(nics: readonly Nic[], times: readonly number[], extra: Extra = {}): NicPlan {
  let last: NicPlan | undefined;
  for (const t of times) last = plan(nics, t, last?.observations, extra);
  if (last === undefined) throw new Error('no sweep');
  return last;
}

function codeOf(p: NicPlan, nicId: string): string | undefined {
  return p.skipped.find((s) => s.nicId === nicId)?.code;
}

describe('planNicCleanup: ownership', () => {
  it('never touches primary NICs, even named and tagged like ours', () => {
    const primary = nicOf({ ...onGone, role: 1, tags: [CLUSTER_TAG] });
    const p = sweeps([primary], [T0, T0 + 10 * GRACE]);
    expect(p.actions).toEqual([]);
    expect(codeOf(p, primary.nicId)).toBe(NicSkipCode.Primary);
    expect(p.observations.size).toBe(0);
  });

  it('never touches NICs not named hostnic_, tagged or not', () => {
    const tagged = nicOf({ nicId: '52:54:00:00:00:10', nicName: 'eth-extra', tags: [CLUSTER_TAG] });
    const plain = nicOf({ nicId: '52:54:00:00:00:11', nicName: 'eth-extra' });
    const p = sweeps([tagged, plain], [T0, T0 + 10 * GRACE]);
    expect(p.actions).toEqual([]);
    expect(codeOf(p, tagged.nicId)).toBe(NicSkipCode.NotHostnic);
    // Not a candidate at all: other people's NICs are not even reported.
    expect(codeOf(p, plain.nicId)).toBeUndefined();
  });

  it('never touches NICs of another cluster: named after an unknown instance, without our tag', () => {
    const theirs = [
      nicOf({ nicId: '52:54:00:00:00:20', nicName: `hostnic_${OTHER}`, status: 'in-use', instanceId: OTHER }),
      nicOf({ nicId: '52:54:00:00:00:21', nicName: `hostnic_${OTHER}` }),
      nicOf({ nicId: '52:54:00:00:00:22', nicName: `hostnic_${OTHER}`, tags: [OTHER_TAG] }),
      nicOf({ nicId: '52:54:00:00:00:23', nicName: 'hostnic_vxnet-abc' }),
    ];
    const p = sweeps(theirs, [T0, T0 + 10 * GRACE]);
    expect(p.actions).toEqual([]);
    expect(p.skipped.map((s) => s.code)).toEqual(theirs.map(() => NicSkipCode.Foreign));
    expect(p.pending).toBe(0);
  });

  it('takes a tagged NIC as ours whatever its name says', () => {
    const tagged = nicOf({ nicId: '52:54:00:00:00:30', nicName: `hostnic_${STRANGER}`, status: 'in-use', instanceId: STRANGER, tags: [CLUSTER_TAG] });
    const p = sweeps([tagged], [T0, T0 + GRACE]);
    expect(p.actions).toMatchObject([{ kind: 'detach-and-delete', nicId: tagged.nicId, instanceId: STRANGER }]);
    expect(p.actions[0]?.reason).toMatch(/never been a node/);
  });

  it('reads the instance id out of a NIC name', () => {
    expect(instanceIdOfNicName('hostnic_i-abcd1234')).toBe('i-abcd1234');
    expect(instanceIdOfNicName('hostnic_vxnet-abc')).toBeUndefined();
    expect(instanceIdOfNicName('hostnic_')).toBeUndefined();
    expect(instanceIdOfNicName('i-abcd1234')).toBeUndefined();
  });
});

describe('planNicCleanup: attached NICs', () => {
  it('never touches a NIC attached to a current node, and keeps no watch on it', () => {
    const live = nicOf({ nicId: '52:54:00:00:00:40', nicName: `hostnic_${LIVE_1}`, status: 'in-use', instanceId: LIVE_1, tags: [CLUSTER_TAG] });
    // Also one named after a departed node but attached to a live one: the live node's business.
    const moved = nicOf({ ...onGone, instanceId: LIVE_2 });
    const p = sweeps([live, moved], [T0, T0 + GRACE, T0 + 100 * GRACE]);
    expect(p.actions).toEqual([]);
    expect(codeOf(p, live.nicId)).toBe(NicSkipCode.LiveNode);
    expect(codeOf(p, moved.nicId)).toBe(NicSkipCode.LiveNode);
    expect(p.observations.size).toBe(0);
  });

  it('detaches and deletes a NIC on a departed instance once seen twice and past the grace period', () => {
    const first = plan([onGone], T0);
    expect(first.actions).toEqual([]);
    expect(codeOf(first, onGone.nicId)).toBe(NicSkipCode.FirstSight);
    expect(first.observations.get(onGone.nicId)).toEqual({ firstSeen: T0, status: 'in-use', instanceId: GONE });
    expect(first.pending).toBe(1);

    const early = plan([onGone], T0 + GRACE - 1, first.observations);
    expect(early.actions).toEqual([]);
    expect(codeOf(early, onGone.nicId)).toBe(NicSkipCode.Grace);

    const due = plan([onGone], T0 + GRACE, early.observations);
    expect(due.actions).toEqual([
      {
        kind: 'detach-and-delete',
        nicId: onGone.nicId,
        nicName: onGone.nicName,
        vxnetId: onGone.vxnetId,
        instanceId: GONE,
        reason: expect.stringMatching(/stopped being a node/) as string,
      },
    ]);
    expect(due.pending).toBe(0);
    // Kept until the janitor reports it done, so a failed action is retried without a new grace period.
    expect(due.observations.get(onGone.nicId)?.firstSeen).toBe(T0);
  });

  it('still needs two sightings when the grace period is zero', () => {
    expect(plan([onGone], T0, new Map(), { graceMs: 0 }).actions).toEqual([]);
    expect(sweeps([onGone], [T0, T0], { graceMs: 0 }).actions).toHaveLength(1);
  });

  it('starts over when the NIC moves to another instance', () => {
    const a = plan([onGone], T0);
    const moved = nicOf({ ...onGone, instanceId: STRANGER, tags: [CLUSTER_TAG] });
    const b = plan([moved], T0 + 5 * MINUTE, a.observations);
    expect(codeOf(b, onGone.nicId)).toBe(NicSkipCode.FirstSight);
    expect(b.observations.get(onGone.nicId)?.firstSeen).toBe(T0 + 5 * MINUTE);
    expect(plan([moved], T0 + GRACE + 1, b.observations).actions).toEqual([]);
    expect(plan([moved], T0 + 5 * MINUTE + GRACE, b.observations).actions).toHaveLength(1);
  });

  it('starts over when the node comes back', () => {
    const a = plan([onGone], T0);
    const back: InventoryView = { ...INVENTORY, current: new Set([LIVE_1, GONE]), departed: new Map() };
    const b = plan([onGone], T0 + 5 * MINUTE, a.observations, { inventory: back });
    expect(codeOf(b, onGone.nicId)).toBe(NicSkipCode.LiveNode);
    expect(b.observations.size).toBe(0);
    const c = plan([onGone], T0 + GRACE, b.observations);
    expect(c.actions).toEqual([]);
    expect(codeOf(c, onGone.nicId)).toBe(NicSkipCode.FirstSight);
  });

  it('leaves NICs on unknown instances alone while some nodes have no known instance id', () => {
    const tagged = nicOf({ nicId: '52:54:00:00:00:50', nicName: `hostnic_${STRANGER}`, status: 'in-use', instanceId: STRANGER, tags: [CLUSTER_TAG] });
    const blind = { inventory: { ...INVENTORY, unidentified: 1 } };
    const p = sweeps([tagged, onGone], [T0, T0 + GRACE], blind);
    expect(codeOf(p, tagged.nicId)).toBe(NicSkipCode.UnidentifiedNodes);
    // A departed instance is known not to be one of them.
    expect(p.actions.map((a) => a.nicId)).toEqual([onGone.nicId]);
  });
});

describe('planNicCleanup: unattached NICs', () => {
  it('deletes an unattached NIC of a departed node after the grace period', () => {
    expect(sweeps([loose], [T0, T0 + GRACE - 1]).actions).toEqual([]);
    const p = sweeps([loose], [T0, T0 + GRACE]);
    expect(p.actions).toMatchObject([{ kind: 'delete', nicId: loose.nicId, instanceId: '' }]);
  });

  it('gives an unattached NIC of a live node three grace periods (its agent may be about to attach it)', () => {
    const own = nicOf({ nicId: '52:54:00:00:00:60', nicName: `hostnic_${LIVE_1}` });
    expect(sweeps([own], [T0, T0 + 3 * GRACE - 1]).actions).toEqual([]);
    expect(sweeps([own], [T0, T0 + 3 * GRACE]).actions).toMatchObject([{ kind: 'delete', nicId: own.nicId }]);
    expect(sweeps([own], [T0, T0 + GRACE], { ownNodeGraceMs: GRACE }).actions).toHaveLength(1);
  });

  it('gives tagged unattached NICs of unknown instances the long grace while nodes are unidentified', () => {
    const tagged = nicOf({ nicId: '52:54:00:00:00:61', nicName: `hostnic_${STRANGER}`, tags: [CLUSTER_TAG] });
    expect(sweeps([tagged], [T0, T0 + GRACE]).actions).toHaveLength(1);
    const blind = { inventory: { ...INVENTORY, unidentified: 2 } };
    expect(sweeps([tagged], [T0, T0 + GRACE], blind).actions).toEqual([]);
    expect(sweeps([tagged], [T0, T0 + 3 * GRACE], blind).actions).toHaveLength(1);
  });

  it('starts over when an unattached NIC gets attached and detached again', () => {
    const a = plan([loose], T0);
    const b = plan([nicOf({ ...loose, status: 'in-use', instanceId: LIVE_1 })], T0 + MINUTE, a.observations);
    expect(b.observations.size).toBe(0);
    const c = plan([loose], T0 + GRACE, b.observations);
    expect(codeOf(c, loose.nicId)).toBe(NicSkipCode.FirstSight);
    expect(c.actions).toEqual([]);
  });

  it('deletes right away a NIC the janitor itself detached', () => {
    const detaching = new Map([[onGone.nicId, { firstSeen: T0, status: 'in-use', instanceId: GONE, detaching: true }]]);
    const detached = nicOf({ ...onGone, status: 'available', instanceId: '' });
    const p = plan([detached], T0 + GRACE, detaching);
    expect(p.actions).toMatchObject([{ kind: 'delete', nicId: onGone.nicId, reason: expect.stringMatching(/detached by the janitor/) as string }]);
    // Without the mark, the same sight is a change.
    const plain = new Map([[onGone.nicId, { firstSeen: T0, status: 'in-use', instanceId: GONE }]]);
    expect(plan([detached], T0 + GRACE, plain).actions).toEqual([]);
  });
});

describe('planNicCleanup: everything else', () => {
  it('does nothing while no current node is known, and keeps its watches', () => {
    const a = plan([onGone], T0);
    const empty: InventoryView = { current: new Set(), departed: INVENTORY.departed, unidentified: 0 };
    const b = plan([onGone, loose], T0 + GRACE, a.observations, { inventory: empty });
    expect(b.actions).toEqual([]);
    expect(codeOf(b, onGone.nicId)).toBe(NicSkipCode.NoNodes);
    expect(b.observations.get(onGone.nicId)?.firstSeen).toBe(T0);
    expect(b.observations.has(loose.nicId)).toBe(false);
  });

  it('waits while a NIC is in a transitional status', () => {
    const moving = nicOf({ ...loose, status: 'pending' });
    const p = sweeps([moving], [T0, T0 + 10 * GRACE]);
    expect(p.actions).toEqual([]);
    expect(codeOf(p, moving.nicId)).toBe(NicSkipCode.Transitional);
  });

  it('forgets NICs that are no longer listed', () => {
    const a = plan([onGone, loose], T0);
    expect(a.observations.size).toBe(2);
    expect([...plan([loose], T0 + MINUTE, a.observations).observations.keys()]).toEqual([loose.nicId]);
  });

  it('handles many NICs in one pass', () => {
    const nics = [
      onGone,
      loose,
      nicOf({ nicId: '52:54:00:00:00:70', nicName: `hostnic_${LIVE_1}`, status: 'in-use', instanceId: LIVE_1 }),
      nicOf({ nicId: '52:54:00:00:00:71', nicName: `hostnic_${OTHER}` }),
    ];
    const p = sweeps(nics, [T0, T0 + GRACE]);
    expect(p.actions.map((a) => [a.kind, a.nicId])).toEqual([
      ['detach-and-delete', onGone.nicId],
      ['delete', loose.nicId],
    ]);
    expect(p.skipped.map((s) => s.code)).toEqual([NicSkipCode.LiveNode, NicSkipCode.Foreign]);
  });

  it('rejects a negative grace period', () => {
    expect(() => plan([], T0, new Map(), { graceMs: -1 })).toThrow(NicPlanInputError);
    expect(() => plan([], T0, new Map(), { ownNodeGraceMs: Number.NaN })).toThrow(NicPlanInputError);
  });
});
