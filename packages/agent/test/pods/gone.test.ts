import { describe, expect, it } from 'vitest';
import { GonePodTracker, RECREATED_MARGIN_MS, goneReason } from '../../src/pods/gone.ts';
import type { PodPresence } from '../../src/pods/gone.ts';
import type { PodRecord } from '../../src/types.ts';

const T0 = Date.parse('2026-11-27T10:00:00Z');

function record(containerId: string, createdAt = new Date(T0).toISOString()): PodRecord {
  return {
    containerId,
    ifName: 'eth0',
    podNamespace: 'default',
    podName: `pod-${containerId}`,
    infraContainerId: containerId,
    netns: `/var/run/netns/${containerId}`,
    handleId: `default-pod-${containerId}-${containerId}`,
    ip: '172.16.3.10',
    vxnetId: 'vxnet-abc1234',
    nicId: '52:54:00:00:00:01',
    hostVeth: 'vnic0123456789a',
    createdAt,
  } as PodRecord;
}

describe('goneReason', () => {
  it('deleted, moved, re-created after the record; present or unknown is not gone', () => {
    const r = record('a');
    expect(goneReason(r, { kind: 'gone' })).toBe('deleted');
    expect(goneReason(r, { kind: 'elsewhere', node: 'node-2' })).toBe('moved');
    expect(goneReason(r, { kind: 'here', createdAt: new Date(T0 + RECREATED_MARGIN_MS + 1) })).toBe('recreated');
    expect(goneReason(r, { kind: 'here', createdAt: new Date(T0 - 5_000) })).toBeUndefined();
    // Within the clock-skew margin: the same incarnation.
    expect(goneReason(r, { kind: 'here', createdAt: new Date(T0 + 30_000) })).toBeUndefined();
    expect(goneReason(r, { kind: 'here' })).toBeUndefined();
    expect(goneReason(r, { kind: 'unknown', reason: 'apiserver down' })).toBeUndefined();
  });
});

describe('GonePodTracker', () => {
  it('needs two looks the grace period apart, and starts over when the pod is seen again', () => {
    const t = new GonePodTracker();
    const a = record('a');
    const b = record('b');
    let presence: Record<string, PodPresence> = { a: { kind: 'gone' }, b: { kind: 'gone' } };
    const look = (now: number) => t.observe([a, b], (r) => presence[r.containerId] ?? { kind: 'unknown', reason: '' }, now, 10_000).map((c) => c.record.containerId);
    expect(look(T0)).toEqual([]);
    expect(look(T0 + 5_000)).toEqual([]);
    presence = { a: { kind: 'gone' }, b: { kind: 'here', createdAt: new Date(T0) } };
    expect(look(T0 + 10_000)).toEqual(['a']);
    presence = { a: { kind: 'gone' }, b: { kind: 'gone' } };
    expect(look(T0 + 11_000)).toEqual(['a']);
    expect(look(T0 + 20_999)).toEqual(['a']);
    expect(look(T0 + 21_000)).toEqual(['a', 'b']);
  });

  it('an API that cannot answer neither starts nor resets the clock', () => {
    const t = new GonePodTracker();
    const a = record('a');
    let presence: PodPresence = { kind: 'gone' };
    const look = (now: number) => t.observe([a], () => presence, now, 10_000).length;
    expect(look(T0)).toBe(0);
    presence = { kind: 'unknown', reason: 'timeout' };
    expect(look(T0 + 20_000)).toBe(0);
    presence = { kind: 'gone' };
    expect(look(T0 + 20_001)).toBe(1);
  });

  it('forgets records that no longer exist', () => {
    const t = new GonePodTracker();
    const a = record('a');
    t.observe([a], () => ({ kind: 'gone' }), T0, 1);
    t.observe([], () => ({ kind: 'gone' }), T0 + 5, 1);
    expect(t.observe([a], () => ({ kind: 'gone' }), T0 + 10, 1)).toEqual([]);
  });
});
