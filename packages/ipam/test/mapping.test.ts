import { describe, expect, it } from 'vitest';
import type { BlockState, IpamConfig, VxNetPoolStatus } from '../src/index.ts';
import {
  EMPTY_IPAM_CONFIG,
  InvalidConfigError,
  MappingMode,
  MappingRefusedError,
  NoPoolOrBlockError,
  NoSubnetForNamespaceError,
  VxNetPoolNotReadyError,
  allocationSources,
  decideNamespaceMapping,
  isNamespaceExhausted,
  missingBlocks,
  parseIpamConfig,
  pickFreeBlock,
  resolveIpamConfig,
  resolvedAllocationSources,
  serializeIpamMapping,
  usedBlocks,
  validateIpamConfig,
} from '../src/index.ts';
import { catchError, runningPool } from './helpers.ts';

const MAP = '{"Default": ["vxnet-abc1234"], "test": ["4100-172-16-3-0-27"]}';
const BLOCKS = missingBlocks(runningPool(27), []).map((b) => b.metadata.name);
const STATUS: VxNetPoolStatus = {
  ready: true,
  // Written in Go's random order on purpose: the pick must not depend on it.
  pools: [{ name: 'vxnet-abc1234', ippool: 'vxnet-abc1234', subnets: [...BLOCKS].reverse() }],
};

function config(ipam: string, auto = false): IpamConfig {
  return parseIpamConfig({ 'subnet-auto-assign': auto ? 'on' : 'off', ipam });
}

describe('parsing hostnic-ipam-config', () => {
  it('maps Default to pools and other keys to namespace blocks', () => {
    const c = config(MAP);
    expect(c.mode).toBe('manual');
    expect(c.defaultPools).toEqual(['vxnet-abc1234']);
    expect([...c.namespaces]).toEqual([['test', ['4100-172-16-3-0-27']]]);
    expect(parseIpamConfig({ 'subnet-auto-assign': 'on', ipam: '{}' }).mode).toBe('auto');
    expect(parseIpamConfig({ ipam: '{}' }).mode).toBe('manual');
    expect(parseIpamConfig(undefined)).toEqual(EMPTY_IPAM_CONFIG);
    expect(parseIpamConfig(null).mode).toBe('manual');
    expect(parseIpamConfig({}).namespaces.size).toBe(0);
    expect(parseIpamConfig({ ipam: '{"a": null}' }).namespaces.get('a')).toEqual([]);
  });

  it('one subnet under two keys is refused with the Go text', () => {
    const problems = validateIpamConfig({ ipam: '{"a": ["b1"], "b": ["b1"]}' });
    expect(problems).toEqual([{ key: 'b', message: 'subnet b1 was assigned to namespaces (a b) which was not allowed' }]);
    expect(validateIpamConfig({ ipam: '{"a": ["b1", "b1"]}' })).toEqual([]);
  });

  it.each([
    ['{', 'ipam', /^ipam format error: ipam is not valid JSON/],
    ['[]', 'ipam', /^ipam format error: ipam must be a JSON object of string arrays, got an array/],
    ['"x"', 'ipam', /got a string/],
    ['{"a": "b1"}', 'a', /^ipam format error: ipam key "a" must map to an array of non-empty IPAMBlock names/],
    ['{"a": [1]}', 'a', /array of non-empty IPAMBlock names/],
    ['{"a": [""]}', 'a', /non-empty/],
    ['{"Default": {}}', 'Default', /array of non-empty IPPool names/],
    ['{"Bad_NS": ["b1"]}', 'Bad_NS', /key "Bad_NS" is not a namespace name/],
  ])('refuses ipam %s naming key %s', (ipam, key, message) => {
    const error = catchError(() => parseIpamConfig({ ipam }));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).code).toBe('InvalidConfig');
    expect((error as InvalidConfigError).key).toBe(key);
    expect((error as Error).message).toMatch(message);
  });

  it('subnet-auto-assign must be on or off', () => {
    const error = catchError(() => parseIpamConfig({ 'subnet-auto-assign': 'yes', ipam: '{}' }));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).key).toBe('subnet-auto-assign');
    expect((error as Error).message).toContain('"on" or "off"');
  });

  it('lists every problem at once', () => {
    const problems = validateIpamConfig({ 'subnet-auto-assign': 'ON', ipam: '{"X": [], "a": ["b"], "c": ["b"]}' });
    expect(problems.map((p) => p.key)).toEqual(['subnet-auto-assign', 'X', 'c']);
  });

  it('serialises like the Go encoder: compact, keys sorted', () => {
    const c = config('{"test": ["b2", "b1"], "Default": ["vxnet-abc1234"], "alpha": []}');
    expect(serializeIpamMapping(c)).toBe('{"Default":["vxnet-abc1234"],"alpha":[],"test":["b2","b1"]}');
    expect(parseIpamConfig({ ipam: serializeIpamMapping(c) })).toEqual({ ...c, mode: 'manual' });
  });
});

describe('candidate sources for a pod', () => {
  it('manual mode uses the namespace blocks, else Default pools', () => {
    const c = config(MAP);
    expect(allocationSources(c, 'test')).toEqual({ kind: 'blocks', names: ['4100-172-16-3-0-27'] });
    expect(allocationSources(c, 'other')).toEqual({ kind: 'pools', names: ['vxnet-abc1234'] });
  });

  it('auto mode ignores Default', () => {
    const c = config(MAP, true);
    expect(allocationSources(c, 'test')).toEqual({ kind: 'blocks', names: ['4100-172-16-3-0-27'] });
    const error = catchError(() => allocationSources(c, 'other'));
    expect(error).toBeInstanceOf(NoPoolOrBlockError);
    expect((error as Error).message).toMatch(/^pool or block not found for namespace other/);
  });

  it('an empty list and no Default fail', () => {
    const c = config('{"test": []}');
    expect(catchError(() => allocationSources(c, 'test'))).toBeInstanceOf(NoPoolOrBlockError);
    expect(catchError(() => allocationSources(c, 'absent'))).toBeInstanceOf(NoPoolOrBlockError);
  });
});

describe('auto mode decisions', () => {
  const states = (free: Record<string, number>, inUse: string[] = []): Map<string, BlockState> =>
    new Map(BLOCKS.map((name) => [name, { free: free[name] ?? 32, empty: !inUse.includes(name) }]));

  it('four namespaces get four distinct blocks in block order, a ninth fails', () => {
    let c = config('{}', true);
    const got: string[] = [];
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const d = decideNamespaceMapping({ config: c, namespace: ns, active: true, blocks: states({}), vxnetPool: STATUS });
      expect(d.changed).toBe(true);
      got.push(d.added ?? '');
      c = d.config;
    }
    expect(got).toEqual(BLOCKS.slice(0, 4));
    for (let i = 4; i < 8; i++) c = decideNamespaceMapping({ config: c, namespace: `ns${i}`, active: true, blocks: states({}), vxnetPool: STATUS }).config;
    const error = catchError(() => decideNamespaceMapping({ config: c, namespace: 'ns9', active: true, blocks: states({}), vxnetPool: STATUS }));
    expect(error).toBeInstanceOf(NoSubnetForNamespaceError);
    expect((error as Error).message).toMatch(/^no free subnet was found/);
  });

  it('blocks of Default pools are never assigned', () => {
    const c = config('{"Default": ["vxnet-abc1234"]}', true);
    expect(usedBlocks(c, STATUS).size).toBe(8);
    expect(catchError(() => pickFreeBlock(c, STATUS, 'default'))).toBeInstanceOf(NoSubnetForNamespaceError);
  });

  it('an exhausted namespace gets a second block; a partly free one does not', () => {
    const [b1, b2, b3] = BLOCKS;
    const c = config(`{"t1": ["${b1}"], "t2": ["${b2}", "${b3}"]}`, true);
    const full = decideNamespaceMapping({ config: c, namespace: 't1', active: true, blocks: states({ [b1 ?? '']: 0 }), vxnetPool: STATUS });
    expect(full.config.namespaces.get('t1')).toEqual([b1, BLOCKS[3]]);
    const partly = decideNamespaceMapping({ config: c, namespace: 't2', active: true, blocks: states({ [b2 ?? '']: 0 }), vxnetPool: STATUS });
    expect(partly.changed).toBe(false);
    expect(isNamespaceExhausted([], new Map())).toBe(true);
    expect(isNamespaceExhausted(['missing'], new Map())).toBe(true);
    expect(isNamespaceExhausted(['a', 'b'], new Map([['a', 0], ['b', 1]]))).toBe(false);
  });

  it('a deleted namespace gives back only empty blocks', () => {
    const [b1, b2] = BLOCKS;
    const c = config(`{"t1": ["${b1}", "${b2}"]}`, true);
    const partly = decideNamespaceMapping({ config: c, namespace: 't1', active: false, blocks: states({}, [b2 ?? '']), vxnetPool: STATUS });
    expect(partly).toMatchObject({ changed: true, removed: [b1] });
    expect(partly.config.namespaces.get('t1')).toEqual([b2]);
    const all = decideNamespaceMapping({ config: partly.config, namespace: 't1', active: false, blocks: states({}), vxnetPool: STATUS });
    expect(all.config.namespaces.has('t1')).toBe(false);
    expect(decideNamespaceMapping({ config: all.config, namespace: 't1', active: false, blocks: states({}), vxnetPool: STATUS }).changed).toBe(false);
    const manual = config(`{"t1": ["${b1}"]}`);
    expect(decideNamespaceMapping({ config: manual, namespace: 't1', active: false, blocks: states({}), vxnetPool: STATUS }).changed).toBe(false);
  });

  it('a VxNetPool that is not ready fails with the Go text', () => {
    const error = catchError(() => pickFreeBlock(config('{}', true), { ready: false }, 'x'));
    expect(error).toBeInstanceOf(VxNetPoolNotReadyError);
    expect((error as Error).message).toBe('waiting for VxNetPool v-pool to be ready');
  });
});

describe('resolveIpamConfig: a bad change keeps the last good mapping', () => {
  const good = parseIpamConfig({ ipam: JSON.stringify({ Default: ['vxnet-a'], dev: ['b1'], prod: ['b2'], qa: ['b3'] }) });

  it('a subnet under two namespaces refuses both entries, keeping their last good ones; the rest take effect', () => {
    const r = resolveIpamConfig({ ipam: JSON.stringify({ Default: ['vxnet-a'], dev: ['b1', 'b9'], prod: ['b9'], qa: ['b4'] }) }, good);
    expect(r.config.namespaces.get('dev')).toEqual(['b1']);
    expect(r.config.namespaces.get('prod')).toEqual(['b2']);
    expect(r.config.namespaces.get('qa')).toEqual(['b4']);
    expect([...r.refused.keys()].sort()).toEqual(['dev', 'prod']);
    expect(r.refused.get('prod')).toEqual({ reason: 'subnet b9 was assigned to namespaces (dev prod) which was not allowed', keptLastGood: true });
  });

  it('a namespace with no last good entry is refused with the reason, not sent to Default', () => {
    const r = resolveIpamConfig({ ipam: JSON.stringify({ Default: ['vxnet-a'], new1: ['b7'], new2: ['b7'] }) }, good);
    expect(() => resolvedAllocationSources(r, 'new1')).toThrow(MappingRefusedError);
    expect(() => resolvedAllocationSources(r, 'new1')).toThrow(/subnet b7 was assigned to namespaces \(new1 new2\)/);
    expect(resolvedAllocationSources(r, 'other')).toEqual({ kind: 'pools', names: ['vxnet-a'] });
  });

  it('broken JSON keeps the whole last good mapping; without one every unlisted namespace is refused', () => {
    const kept = resolveIpamConfig({ ipam: '{"dev": [' }, good);
    expect(kept.config.namespaces).toEqual(good.namespaces);
    expect(kept.config.defaultPools).toEqual(['vxnet-a']);
    expect(resolvedAllocationSources(kept, 'dev')).toEqual({ kind: 'blocks', names: ['b1'] });
    const cold = resolveIpamConfig({ ipam: '{"dev": [' }, undefined);
    expect(() => resolvedAllocationSources(cold, 'dev')).toThrow(/ipam is not valid JSON/);
  });

  it('subnet-auto-assign other than "on" is off, with a problem saying so', () => {
    const r = resolveIpamConfig({ 'subnet-auto-assign': 'true', ipam: '{}' }, undefined);
    expect(r.config.mode).toBe(MappingMode.Manual);
    expect(r.problems.map((p) => p.message)).toEqual(['subnet-auto-assign must be "on" or "off", got "true" (taken as "off", as the original did)']);
  });

  it('a block a kept entry held goes to the valid new entry that names it', () => {
    const r = resolveIpamConfig({ ipam: JSON.stringify({ dev: 'b1', qa: ['b1'] }) }, good);
    expect(r.config.namespaces.get('qa')).toEqual(['b1']);
    expect(r.config.namespaces.has('dev')).toBe(false);
    expect(r.refused.get('dev')?.keptLastGood).toBe(false);
  });
});
