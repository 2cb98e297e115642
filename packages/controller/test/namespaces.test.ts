import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIpamConfig } from '@hostnic/ipam';
import type { IPAMBlock } from '@hostnic/ipam';
import { putIpamConfig, putVxNetPool, seedVxnets, startHarness, VXNET } from './harness.ts';
import type { Harness } from './harness.ts';
import { reconcilers } from './reconcilers.ts';
import type { Reconcilers } from './reconcilers.ts';
import { NamespaceAutoAssigner } from '../src/namespaces/auto-assign.ts';
import type { NamespaceView } from '../src/namespaces/auto-assign.ts';
import { MappingValidator } from '../src/namespaces/mapping-validator.ts';
import type { ConditionInput } from '../src/resources/conditions.ts';
import { setCondition } from '../src/resources/conditions.ts';

let h: Harness;
let r: Reconcilers;
const namespaces = new Map<string, NamespaceView>();

beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
  namespaces.clear();
  putVxNetPool(h.kube, [VXNET], 27);
  r = reconcilers(h);
  expect((await r.settle())?.ready).toBe(true);
});
afterEach(async () => {
  await h.close();
});

async function setVpoolCondition(condition: ConditionInput): Promise<void> {
  await h.pools.updateStatus((status) => ({ ...(status ?? { ready: false }), conditions: setCondition(status?.conditions, condition, new Date()) }));
}

function condition(type: string): { status: string; reason: string; message: string } | undefined {
  const status = h.kube.get('vxnetpools', 'v-pool')?.['status'] as { conditions?: { type: string; status: string; reason: string; message: string }[] };
  return status.conditions?.find((c) => c.type === type);
}

async function blocks(): Promise<IPAMBlock[]> {
  return (await h.store.listBlocks()).map((b) => b.object);
}

let cachedBlocks: IPAMBlock[] = [];
function assigner(): NamespaceAutoAssigner {
  return new NamespaceAutoAssigner({
    store: h.store,
    events: h.events,
    namespace: (name) => namespaces.get(name),
    blocks: () => cachedBlocks,
    vxnetPoolStatus: async () => (await h.pools.get())?.status,
    setCondition: setVpoolCondition,
    retryMs: 10,
  });
}

async function mapping(): Promise<Map<string, readonly string[]>> {
  const data = (await h.store.getIpamConfig())?.object;
  return new Map(parseIpamConfig(data).namespaces);
}

const B = (o: number): string => `4100-172-16-3-${o}-27`;

describe('auto mode (subnet-auto-assign: "on")', () => {
  beforeEach(async () => {
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: '{}' });
    cachedBlocks = await blocks();
  });

  it('gives each namespace its own free block, in block order', async () => {
    const a = assigner();
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      namespaces.set(ns, { terminating: false });
      expect((await a.sync(ns)).added).toBeDefined();
    }
    const m = await mapping();
    expect([...m.entries()].sort()).toEqual([
      ['default', [B(0)]],
      ['kube-node-lease', [B(96)]],
      ['kube-public', [B(64)]],
      ['kube-system', [B(32)]],
    ].sort());
    // Again: nothing changes (idempotent).
    expect((await a.sync('default')).changed).toBe(false);
    expect(h.events.list.filter((e) => e.reason === 'SubnetAssigned')).toHaveLength(4);
    expect(h.events.list[h.events.list.length - 1]).toMatchObject({ kind: 'Namespace', name: 'kube-node-lease' });
  });

  it('reports exhaustion as an Event on the namespace and a condition on v-pool, and recovers', async () => {
    const a = assigner();
    for (let i = 0; i < 8; i++) {
      namespaces.set(`ns${i}`, { terminating: false });
      await a.sync(`ns${i}`);
    }
    namespaces.set('late', { terminating: false });
    const before = (await h.store.getIpamConfig())?.version;
    const res = await a.sync('late');
    expect(res.changed).toBe(false);
    expect(res.requeueAfterMs).toBe(10);
    expect((await h.store.getIpamConfig())?.version).toBe(before);
    expect(h.events.list.find((e) => e.reason === 'NoFreeSubnet')).toMatchObject({ kind: 'Namespace', name: 'late', type: 'Warning' });
    expect(condition('SubnetsAvailable')).toMatchObject({ status: 'False', reason: 'NoFreeSubnet' });
    expect(condition('SubnetsAvailable')?.message).toContain('late');

    // ns7 goes away (its block is empty): late gets it.
    namespaces.delete('ns7');
    expect((await a.sync('ns7')).removed).toEqual([B(224)]);
    expect((await a.sync('late')).added).toBe(B(224));
    expect(condition('SubnetsAvailable')?.status).toBe('True');
  });

  it('extends a namespace only when all of its blocks are full', async () => {
    const a = assigner();
    namespaces.set('t1', { terminating: false });
    await a.sync('t1');
    // Fill t1's block: 30 addresses.
    for (let i = 0; i < 30; i++) await r.ipam.allocate({ handleId: `t1-p${i}-c`, namespace: 't1', pod: `p${i}`, node: 'node-1' });
    cachedBlocks = await blocks();
    expect(a.ownersOf(B(0))).toEqual(['t1']);
    expect((await a.sync('t1')).added).toBe(B(32));
    expect((await mapping()).get('t1')).toEqual([B(0), B(32)]);
    // One full and one free block: not extended.
    cachedBlocks = await blocks();
    expect((await a.sync('t1')).changed).toBe(false);
  });

  it('never hands out blocks of Default pools', async () => {
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: JSON.stringify({ Default: [VXNET] }) });
    namespaces.set('default', { terminating: false });
    const res = await assigner().sync('default');
    expect(res.changed).toBe(false);
    expect(h.events.reasons()).toContain('NoFreeSubnet');
  });

  it('keeps the blocks of a deleted namespace that still hold addresses until they are empty', async () => {
    const a = assigner();
    namespaces.set('t1', { terminating: false });
    await a.sync('t1');
    await r.ipam.allocate({ handleId: 't1-web-c', namespace: 't1', pod: 'web', node: 'node-1' });
    namespaces.set('t1', { terminating: true });
    cachedBlocks = await blocks();
    expect((await a.sync('t1')).changed).toBe(false);
    expect((await mapping()).get('t1')).toEqual([B(0)]);
    namespaces.delete('t1');
    await r.ipam.release('t1-web-c');
    cachedBlocks = await blocks();
    expect((await a.sync('t1')).removed).toEqual([B(0)]);
    expect((await mapping()).has('t1')).toBe(false);
  });

  it('waits for v-pool to be ready', async () => {
    await h.pools.updateStatus((s) => ({ ...(s ?? { ready: false }), ready: false }));
    namespaces.set('default', { terminating: false });
    const res = await assigner().sync('default');
    expect(res).toMatchObject({ changed: false, requeueAfterMs: 10 });
  });

  it('re-decides on a conflicting write instead of overwriting', async () => {
    namespaces.set('default', { terminating: false });
    h.kube.faults.conflictOn({ verb: 'update', resource: 'configmaps' }, { times: 1 });
    const a = assigner();
    const first = await a.sync('default');
    expect(first).toMatchObject({ changed: false, requeueAfterMs: 0 });
    expect((await a.sync('default')).added).toBe(B(0));
  });
});

describe('manual mode', () => {
  it('changes nothing', async () => {
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET] }) });
    cachedBlocks = await blocks();
    namespaces.set('default', { terminating: false });
    const version = (await h.store.getIpamConfig())?.version;
    expect((await assigner().sync('default')).changed).toBe(false);
    expect((await h.store.getIpamConfig())?.version).toBe(version);
  });
});

describe('mapping validation (instead of a webhook)', () => {
  const validator = (): MappingValidator => new MappingValidator({ store: h.store, events: h.events, setCondition: setVpoolCondition });

  it('accepts the seed README example once its blocks exist', async () => {
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET], test: [B(0), B(128)] }) });
    expect((await validator().sync()).valid).toBe(true);
    expect(condition('MappingValid')).toMatchObject({ status: 'True' });
  });

  it('reports one subnet in two namespaces, unknown subnets and pools, and bad JSON, as a condition and an Event', async () => {
    const v = validator();
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ a: [B(0)], b: [B(0)] }) });
    let report = await v.sync();
    expect(report.valid).toBe(false);
    expect(report.problems.join()).toMatch(/subnet 4100-172-16-3-0-27 was assigned to namespaces \(a b\)/);
    expect(condition('MappingValid')).toMatchObject({ status: 'False', reason: 'InvalidMapping' });
    expect(h.events.list.at(-1)).toMatchObject({ kind: 'ConfigMap', name: 'hostnic-ipam-config', type: 'Warning', reason: 'InvalidIpamConfig' });

    putIpamConfig(h.kube, { ipam: JSON.stringify({ Default: ['vxnet-nope'], test: ['4100-172-16-3-0-26'] }) });
    report = await v.sync();
    expect(report.problems).toHaveLength(2);
    expect(report.problems.join()).toContain('block 4100-172-16-3-0-26 does not exist');
    expect(report.problems.join()).toContain('IPPool vxnet-nope does not exist');

    putIpamConfig(h.kube, { ipam: '{' });
    report = await v.sync();
    expect(report.problems[0]).toMatch(/^ipam format error:/);
    const events = h.events.list.filter((e) => e.reason === 'InvalidIpamConfig').length;
    await v.sync();
    expect(h.events.list.filter((e) => e.reason === 'InvalidIpamConfig')).toHaveLength(events);

    putIpamConfig(h.kube, { ipam: JSON.stringify({ test: [B(0)] }) });
    expect((await v.sync()).valid).toBe(true);
    expect(condition('MappingValid')?.status).toBe('True');
  });

  it('says in the condition and the Event that the last good mapping stays in force, and which namespaces are refused', async () => {
    const v = validator();
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET], a: [B(0)], b: [B(128)] }) });
    expect((await v.sync()).valid).toBe(true);
    // A bad change: b and the new namespace c claim a's block.
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [VXNET], a: [B(0)], b: [B(0)], c: [B(0)] }) });
    expect((await v.sync()).valid).toBe(false);
    const message = condition('MappingValid')?.message ?? '';
    expect(message).toContain('the last good mapping stays in force for what the problems touch');
    expect(message).toMatch(/kept at their last good entry: a, b;/);
    expect(message).toMatch(/refused \(no last good entry; their pods get no address until fixed\): c;/);
    expect(message).toContain('every other namespace is unaffected');
    expect(h.events.list.at(-1)).toMatchObject({ reason: 'InvalidIpamConfig', message });
  });

  it('says that every namespace is refused when the ConfigMap was never good', async () => {
    putIpamConfig(h.kube, { ipam: '{' });
    await validator().sync();
    expect(condition('MappingValid')?.message).toMatch(/^ipam format error:.*no good mapping was seen before, so pods of every namespace are refused/);
  });

  it('says how to fix a missing ConfigMap', async () => {
    await validator().sync();
    expect(condition('MappingValid')).toMatchObject({ status: 'False', reason: 'ConfigMapMissing' });
  });
});
