import { describe, expect, it } from 'vitest';
import type { Finding, IPAMBlock, IPAMBlockSpec, IPAMHandle } from '../src/index.ts';
import {
  assignAddresses,
  checkConsistency,
  formatGoTimestamp,
  LABEL_POOL_NAME,
  missingBlocks,
  newBlock,
  stableRepairPlan,
} from '../src/index.ts';
import { at, deepFreeze, must, pool, runningPool, T0 } from './helpers.ts';

const MIN = 60_000;
const P = runningPool(27);
const [B0, B1, B2] = missingBlocks(P, []).map((b) => b.spec);
const K0 = '4100-172.16.3.0/27';
const K1 = '4100-172.16.3.32/27';
const K2 = '4100-172.16.3.64/27';

function give(spec: IPAMBlockSpec, handleId: string, ns: string, pod: string, when: Date, count = 1): IPAMBlockSpec {
  return assignAddresses(spec, {
    handleId,
    count,
    now: T0,
    cooldownMs: 0,
    secondary: { namespace: ns, pod, node: 'node-1', timestamp: formatGoTimestamp(when) },
  }).block;
}

function handle(handleId: string, block: Record<string, number>, deleted = false): IPAMHandle {
  return { metadata: { name: handleId }, spec: { handleID: handleId, block, deleted } };
}

function asBlock(spec: IPAMBlockSpec, poolName = P.metadata.name): IPAMBlock {
  const fresh = newBlock(pool(poolName, '172.16.0.0/16', undefined, undefined, 16), spec.cidr);
  return { metadata: { ...fresh.metadata, name: fresh.metadata.name }, spec };
}

function scenario() {
  let b0 = must(B0);
  b0 = give(b0, 'default-nginx-abc123', 'default', 'nginx', at(-60 * MIN));
  b0 = give(b0, 'default-old-def456', 'default', 'old', at(-10 * MIN));
  b0 = give(b0, 'default-young-aaa111', 'default', 'young', at(-1 * MIN));
  b0 = give(b0, 'default-api-0ld', 'default', 'api', at(-30 * MIN));
  let b1 = must(B1);
  b1 = give(b1, 'default-e-eee', 'default', 'e', at(-60 * MIN));
  b1 = give(b1, 'default-web-f00', 'default', 'web', at(-60 * MIN));
  b1 = give(b1, 'plain-owner', '', '', at(-60 * MIN));
  const blocks = deepFreeze([asBlock(b0), asBlock(b1), asBlock(must(B2))]);
  const handles = deepFreeze([
    handle('default-nginx-abc123', { [K0]: 1 }),
    handle('default-old-def456', { [K0]: 1 }),
    handle('default-young-aaa111', { [K0]: 1 }),
    handle('default-api-0ld', { [K0]: 1 }),
    handle('default-d-ddd', { [K2]: 1 }),
    handle('default-e-eee', { [K1]: 2, '4100-10.9.9.0/27': 1, junk: 1 }),
    handle('gone-handle', { [K0]: 1 }, true),
  ]);
  const livePods = [
    { namespace: 'default', name: 'nginx' },
    { namespace: 'default', name: 'api', containerID: 'NEW1' },
    { namespace: 'default', name: 'e' },
    { namespace: 'default', name: 'web' },
    { namespace: 'default', name: 'd' },
  ];
  return { pools: [P], blocks, handles, livePods, now: T0, graceMs: 5 * MIN };
}

const kinds = (findings: readonly Finding[], kind: Finding['kind']): Finding[] => findings.filter((f) => f.kind === kind);

describe('consistency check', () => {
  it('reports stale handles, count mismatches, orphans and leaked pod addresses', () => {
    const { findings } = checkConsistency(scenario());
    expect(kinds(findings, 'StaleHandleBlock')).toEqual([
      { kind: 'StaleHandleBlock', handleId: 'default-d-ddd', blockKey: K2, reason: 'NoAddresses' },
      { kind: 'StaleHandleBlock', handleId: 'default-e-eee', blockKey: '4100-10.9.9.0/27', reason: 'BlockMissing' },
      { kind: 'StaleHandleBlock', handleId: 'default-e-eee', blockKey: 'junk', reason: 'BadKey' },
    ]);
    expect(kinds(findings, 'HandleCountMismatch')).toEqual([
      { kind: 'HandleCountMismatch', handleId: 'default-e-eee', blockKey: K1, handleCount: 2, blockCount: 1 },
    ]);
    expect(kinds(findings, 'OrphanAllocation')).toEqual([
      { kind: 'OrphanAllocation', blockName: '4100-172-16-3-32-27', handleId: 'default-web-f00', ordinals: [1] },
      { kind: 'OrphanAllocation', blockName: '4100-172-16-3-32-27', handleId: 'plain-owner', ordinals: [2] },
    ]);
    expect(kinds(findings, 'DeadPodAllocation')).toEqual([
      { kind: 'DeadPodAllocation', blockName: '4100-172-16-3-0-27', handleId: 'default-old-def456', namespace: 'default', pod: 'old', ordinals: [3], reason: 'PodGone', withinGrace: false },
      { kind: 'DeadPodAllocation', blockName: '4100-172-16-3-0-27', handleId: 'default-young-aaa111', namespace: 'default', pod: 'young', ordinals: [4], reason: 'PodGone', withinGrace: true },
      { kind: 'DeadPodAllocation', blockName: '4100-172-16-3-0-27', handleId: 'default-api-0ld', namespace: 'default', pod: 'api', ordinals: [5], reason: 'SandboxChanged', withinGrace: false },
    ]);
    expect(kinds(findings, 'BrokenBlock')).toEqual([]);
    expect(kinds(findings, 'OverlappingBlocks')).toEqual([]);
  });

  it('plans repairs as data', () => {
    const { plan } = checkConsistency(scenario());
    expect(plan.release).toEqual([
      { blockName: '4100-172-16-3-0-27', handleId: 'default-old-def456', ordinals: [3] },
      { blockName: '4100-172-16-3-0-27', handleId: 'default-api-0ld', ordinals: [5] },
    ]);
    expect(plan.deleteHandles).toEqual(['default-api-0ld', 'default-d-ddd', 'default-old-def456']);
    expect(plan.updateHandles).toEqual([{ handleId: 'default-e-eee', block: { [K1]: 1 } }]);
    expect(plan.createHandles).toEqual([
      { handleId: 'default-web-f00', block: { [K1]: 1 } },
      { handleId: 'plain-owner', block: { [K1]: 1 } },
    ]);
  });

  it('a consistent snapshot yields no findings and an empty plan', () => {
    const b0 = give(must(B0), 'default-nginx-abc123', 'default', 'nginx', at(-MIN));
    const report = checkConsistency({
      pools: [P],
      blocks: [asBlock(b0)],
      handles: [handle('default-nginx-abc123', { [K0]: 1 })],
      livePods: [{ namespace: 'default', name: 'nginx', containerID: 'abc123' }],
      now: T0,
    });
    expect(report).toEqual({ findings: [], plan: { release: [], deleteHandles: [], updateHandles: [], createHandles: [], recordAddresses: [] } });
  });

  it('reports broken blocks, blocks without pool, allocations outside the range and overlaps', () => {
    const b0 = must(B0);
    const broken: IPAMBlockSpec = { ...b0, unallocated: b0.unallocated.slice(1) };
    const last = newBlock(P, '172.16.3.224/27').spec;
    const outside: IPAMBlockSpec = {
      ...last,
      allocations: last.allocations.map((a, o) => (o === 25 ? 1 : a)),
      attributes: [...last.attributes, { handle_id: 'x', secondary: {} }],
    };
    const stray = asBlock(newBlock(pool('elsewhere', '172.16.3.0/26'), '172.16.3.0/26').spec, 'elsewhere');
    const deleted = asBlock({ ...must(B1), deleted: true });
    const { findings } = checkConsistency({
      pools: [P],
      blocks: [asBlock(broken), asBlock(outside), stray, deleted],
      handles: [handle('x', { '4100-172.16.3.224/27': 1 })],
      livePods: [],
      now: T0,
    });
    expect(kinds(findings, 'BrokenBlock')).toEqual([
      { kind: 'BrokenBlock', blockName: '4100-172-16-3-0-27', problems: [{ kind: 'LostOrdinal', ordinal: 2, message: 'ordinal 2 is neither free nor allocated' }] },
    ]);
    expect(kinds(findings, 'BlockWithoutPool')).toEqual([{ kind: 'BlockWithoutPool', blockName: '4100-172-16-3-0-26', pool: 'elsewhere' }]);
    expect(kinds(findings, 'AllocationOutsideRange')).toEqual([
      { kind: 'AllocationOutsideRange', blockName: '4100-172-16-3-224-27', handleId: 'x', ordinals: [25] },
    ]);
    expect(kinds(findings, 'OverlappingBlocks')).toEqual([
      { kind: 'OverlappingBlocks', blockNames: ['4100-172-16-3-0-27', '4100-172-16-3-0-26'] },
    ]);
    expect(stray.metadata.labels?.[LABEL_POOL_NAME]).toBe('elsewhere');
  });

  it('applies only what persisted between two checks', () => {
    const first = checkConsistency(scenario()).plan;
    const later = checkConsistency({ ...scenario(), livePods: [...scenario().livePods, { namespace: 'default', name: 'old' }] }).plan;
    const stable = stableRepairPlan(first, later);
    expect(stable.release).toEqual([{ blockName: '4100-172-16-3-0-27', handleId: 'default-api-0ld', ordinals: [5] }]);
    expect(stable.deleteHandles).toEqual(['default-api-0ld', 'default-d-ddd']);
    expect(stable.updateHandles).toEqual(first.updateHandles);
    expect(stable.createHandles).toEqual(first.createHandles);
  });
});

describe('addresses live pods use that their blocks forgot (the original\'s broken blocks)', () => {
  // B0 is 172.16.3.0/27: .2 is its first pod address.
  const base = () => give(must(B0), 'default-nginx-abc123', 'default', 'nginx', at(-MIN));
  const input = (livePods: { namespace: string; name: string; containerID?: string; ip?: string; node?: string }[]) => ({
    pools: [P],
    blocks: [asBlock(base())],
    handles: [handle('default-nginx-abc123', { [K0]: 1 }), handle('default-web-9f9', {})],
    livePods,
    now: T0,
  });

  it('finds an unrecorded address and plans to record it for the pod\'s handle', () => {
    const { findings, plan } = checkConsistency(input([
      { namespace: 'default', name: 'nginx', containerID: 'abc123', ip: '172.16.3.2' },
      { namespace: 'default', name: 'web', ip: '172.16.3.9', node: 'node-2' },
    ]));
    expect(kinds(findings, 'UnrecordedPodAddress')).toEqual([
      { kind: 'UnrecordedPodAddress', blockName: '4100-172-16-3-0-27', address: '172.16.3.9', namespace: 'default', pod: 'web', heldBy: undefined, fixable: true },
    ]);
    expect(plan.recordAddresses).toEqual([
      { blockName: '4100-172-16-3-0-27', address: '172.16.3.9', handleId: 'default-web-9f9', namespace: 'default', pod: 'web', node: 'node-2' },
    ]);
  });

  it('names the pod handle from the sandbox when none exists, and cannot fix without one', () => {
    const { plan, findings } = checkConsistency(input([
      { namespace: 'dev', name: 'api', containerID: 'C0FFEE', ip: '172.16.3.10' },
      { namespace: 'dev', name: 'db', ip: '172.16.3.11' },
    ]));
    expect(plan.recordAddresses?.map((r) => r.handleId)).toEqual(['dev-api-c0ffee']);
    expect(kinds(findings, 'UnrecordedPodAddress').map((f) => 'fixable' in f && f.fixable)).toEqual([true, false]);
  });

  it('reports an address held by another handle, or used by two pods, without planning anything', () => {
    const { findings, plan } = checkConsistency(input([
      { namespace: 'default', name: 'other', containerID: 'x1', ip: '172.16.3.2' },
      { namespace: 'a', name: 'p', ip: '172.16.3.20' },
      { namespace: 'b', name: 'q', ip: '172.16.3.20' },
    ]));
    expect(kinds(findings, 'UnrecordedPodAddress')).toEqual([
      { kind: 'UnrecordedPodAddress', blockName: '4100-172-16-3-0-27', address: '172.16.3.2', namespace: 'default', pod: 'other', heldBy: 'default-nginx-abc123', fixable: false },
    ]);
    expect(kinds(findings, 'SharedPodAddress')).toEqual([{ kind: 'SharedPodAddress', address: '172.16.3.20', pods: ['a/p', 'b/q'] }]);
    expect(plan.recordAddresses).toEqual([]);
  });

  it('skips reserved addresses: a host-network pod reports its node\'s', () => {
    const { findings } = checkConsistency(input([
      { namespace: 'default', name: 'nginx', containerID: 'abc123', ip: '172.16.3.2' },
      { namespace: 'kube-system', name: 'proxy', ip: '172.16.3.0' },
    ]));
    expect(findings).toEqual([]);
  });
});
