import { describe, expect, it } from 'vitest';
import { poolsView } from '../../src/daemon/pools-view.ts';
import type { NicRecord, PodRecord } from '../../src/types.ts';

const usage = {
  pools: [
    { name: 'vxnet-b', blocks: 8, capacity: 256, reserved: 15, allocated: 0, unallocated: 241 },
    { name: 'vxnet-a', blocks: 4, capacity: 256, reserved: 15, allocated: 3, unallocated: 238 },
  ],
};

describe('poolsView', () => {
  it('puts this node\'s NIC, pods and warm flag next to each pool\'s figures, by name', () => {
    const nics = [{ nicId: '52:54:00:00:00:0a', vxnet: { vxnetId: 'vxnet-a' }, phase: 'Succeeded' }] as unknown as NicRecord[];
    const pods = [{ vxnetId: 'vxnet-a' }, { vxnetId: 'vxnet-a' }] as unknown as PodRecord[];
    expect(poolsView(usage, { nics, pods }, new Set(['vxnet-a']))).toEqual([
      { name: 'vxnet-a', blocks: 4, capacity: 256, reserved: 15, allocated: 3, free: 238, nicId: '52:54:00:00:00:0a', nicPhase: 'Succeeded', podsHere: 2, warm: true },
      { name: 'vxnet-b', blocks: 8, capacity: 256, reserved: 15, allocated: 0, free: 241, nicId: null, nicPhase: null, podsHere: 0, warm: false },
    ]);
  });
});
