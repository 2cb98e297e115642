import { describe, expect, it } from 'vitest';
import type { CpuProfile } from '../../bench/stall-causes.ts';
import { causeOf, formatStalls, stallCauses } from '../../bench/stall-causes.ts';

/** root(1) -> (idle)(2), (garbage collector)(3), handler(4) -> spawn(5), handler(4) -> put(6) -> transactionSync(7) */
const nodes: CpuProfile['nodes'] = [
  { id: 1, callFrame: { functionName: '(root)' }, children: [2, 3, 4] },
  { id: 2, callFrame: { functionName: '(idle)' } },
  { id: 3, callFrame: { functionName: '(garbage collector)' } },
  { id: 4, callFrame: { functionName: 'handler' }, children: [5, 6] },
  { id: 5, callFrame: { functionName: 'spawn' } },
  { id: 6, callFrame: { functionName: 'put' }, children: [7] },
  { id: 7, callFrame: { functionName: 'transactionSync' } },
];

/** One sample per millisecond from t = 1000 µs, the node of each given in order. */
function profileOf(samples: number[]): CpuProfile {
  return { nodes, startTime: 0, endTime: 1000 * (samples.length + 1), samples, timeDeltas: samples.map(() => 1000) };
}

describe('stall causes', () => {
  it('puts a sample down to its leaf for GC and idle, else to the first frame a rule knows', () => {
    expect(causeOf(['(garbage collector)'])).toBe('GC');
    expect(causeOf(['(idle)'])).toBe('idle (descheduled)');
    expect(causeOf(['spawn', 'handler', '(root)'])).toBe('spawn (fork)');
    expect(causeOf(['finishTxn', 'when', 'transactionSync', 'put'])).toBe('lmdb synchronous commit');
    expect(causeOf(['putSync', 'write', 'executeTxnCallbacks'])).toBe('lmdb transaction callbacks');
    expect(causeOf(['(program)'])).toBe('native, outside JS');
    expect(causeOf(['handler', '(root)'])).toBe('other JS');
  });

  it('sums the samples inside the gaps of the window by cause and names the longest gaps', () => {
    // ms 1-4 spawn, 5-6 GC, 7 idle, 8-10 lmdb commit, 11-12 handler
    const profile = profileOf([5, 5, 5, 5, 3, 3, 2, 7, 7, 7, 4, 4]);
    const gaps = [
      [1000, 6000], // the samples at 1-6 ms: 4 spawn, 2 GC
      [8000, 10_000], // 8-10 ms: 3 commits
      [11_000, 12_000], // outside the window
    ] as const;
    const r = stallCauses(profile, gaps, { from: 0, to: 10_500 });
    expect(r.gaps).toBe(2);
    expect(r.maxMs).toBe(5);
    expect(r.byCause).toEqual([
      ['spawn (fork)', 4],
      ['lmdb synchronous commit', 3],
      ['GC', 2],
    ]);
    expect(r.longest[0]?.causes).toEqual([
      ['spawn (fork)', 4],
      ['GC', 2],
    ]);
    expect(r.longest[0]?.heaviest).toBe('spawn < handler < (root)');
    expect(formatStalls(r)).toContain('longest 5.0 ms');
  });

  it('reports nothing for a window without gaps', () => {
    const r = stallCauses(profileOf([5, 5]), [[1000, 2000]], { from: 5000, to: 9000 });
    expect(r).toEqual({ gaps: 0, maxMs: 0, byCause: [], longest: [] });
  });
});
