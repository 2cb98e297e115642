import { describe, expect, it } from 'vitest';
import { INSTANCE_ID_ANNOTATION, InventoryOptionsError, NodeInventory, instanceIdOfNode } from '../../src/cleanup/index.ts';
import { MINUTE, T0, node } from './helpers.ts';

const DAY = 24 * 60 * MINUTE;

describe('instanceIdOfNode', () => {
  it('prefers the instance-id annotation and trims it', () => {
    expect(instanceIdOfNode(node('worker-1', ' i-abcd1234\n', { providerID: 'qingcloud://i-other999' }))).toBe('i-abcd1234');
  });

  it('falls back to the last segment of spec.providerID', () => {
    expect(instanceIdOfNode(node('worker-1', undefined, { providerID: 'qingcloud://i-abcd1234' }))).toBe('i-abcd1234');
    expect(instanceIdOfNode(node('worker-1', undefined, { providerID: 'qingcloud:///pek3a/i-abcd1234/' }))).toBe('i-abcd1234');
  });

  it('passes over an annotation or providerID that is not an instance id', () => {
    expect(instanceIdOfNode(node('worker-1', 'not an id', { providerID: 'qingcloud://i-abcd1234' }))).toBe('i-abcd1234');
    expect(instanceIdOfNode(node('i-name0001', undefined, { providerID: 'kind://docker/kind/worker' }))).toBe('i-name0001');
  });

  it('takes the node name only when it looks like an instance id', () => {
    expect(instanceIdOfNode(node('i-name0001'))).toBe('i-name0001');
    expect(instanceIdOfNode(node('worker-1'))).toBeUndefined();
    expect(instanceIdOfNode({})).toBeUndefined();
    expect(instanceIdOfNode(node('I-UPPER01'))).toBeUndefined();
  });
});

describe('NodeInventory', () => {
  it('tracks joins, departures (with the time first seen gone) and returns', () => {
    const inv = new NodeInventory();
    const first = inv.observe([node('a', 'i-aaaa0001'), node('b', 'i-bbbb0001'), node('worker-x')], T0);
    expect(first.joined).toEqual(['i-aaaa0001', 'i-bbbb0001']);
    expect(first.unidentified).toEqual(['worker-x']);
    expect(inv.unidentified).toBe(1);

    const second = inv.observe([node('a', 'i-aaaa0001')], T0 + MINUTE);
    expect(second.departed).toEqual(['i-bbbb0001']);
    expect([...inv.current]).toEqual(['i-aaaa0001']);
    expect(inv.departed.get('i-bbbb0001')).toBe(T0 + MINUTE);
    expect(inv.nodeNameOf('i-bbbb0001')).toBe('b');
    expect(inv.unidentified).toBe(0);

    // Still gone: the departure time stays the first time it was seen gone.
    inv.observe([node('a', 'i-aaaa0001')], T0 + 5 * MINUTE);
    expect(inv.departed.get('i-bbbb0001')).toBe(T0 + MINUTE);

    const back = inv.observe([node('a', 'i-aaaa0001'), node('b2', 'i-bbbb0001')], T0 + 6 * MINUTE);
    expect(back.returned).toEqual(['i-bbbb0001']);
    expect(inv.departed.size).toBe(0);
    expect(inv.current.has('i-bbbb0001')).toBe(true);
  });

  it('forgets departed instances after the retention, and the oldest beyond the size bound', () => {
    const inv = new NodeInventory({ departedRetentionMs: DAY, maxDeparted: 2 });
    inv.observe([node('a', 'i-aaaa0001'), node('b', 'i-bbbb0001'), node('c', 'i-cccc0001'), node('d', 'i-dddd0001')], T0);
    inv.observe([node('b', 'i-bbbb0001'), node('c', 'i-cccc0001'), node('d', 'i-dddd0001')], T0 + 1);
    inv.observe([node('c', 'i-cccc0001'), node('d', 'i-dddd0001')], T0 + 2);
    const change = inv.observe([node('d', 'i-dddd0001')], T0 + 3);
    expect(change.forgotten).toEqual(['i-aaaa0001']);
    expect([...inv.departed.keys()].sort()).toEqual(['i-bbbb0001', 'i-cccc0001']);

    expect(inv.prune(T0 + 3 + DAY)).toEqual(['i-bbbb0001']);
    expect([...inv.departed.keys()]).toEqual(['i-cccc0001']);
  });

  it('rejects nonsensical options', () => {
    expect(() => new NodeInventory({ departedRetentionMs: 0 })).toThrow(InventoryOptionsError);
    expect(() => new NodeInventory({ maxDeparted: Number.NaN })).toThrow(InventoryOptionsError);
  });

  it('round-trips through JSON, and sees nodes that left while the controller was down', () => {
    const inv = new NodeInventory();
    inv.observe([node('a', 'i-aaaa0001'), node('b', 'i-bbbb0001'), node('c', 'i-cccc0001')], T0);
    inv.observe([node('a', 'i-aaaa0001'), node('b', 'i-bbbb0001')], T0 + MINUTE);
    const text = inv.toJSON();
    expect(JSON.parse(text)).toMatchObject({ version: 1 });

    const restored = NodeInventory.fromJSON(text);
    expect(restored.toJSON()).toBe(text);
    expect([...restored.current].sort()).toEqual(['i-aaaa0001', 'i-bbbb0001']);
    expect(restored.departed.get('i-cccc0001')).toBe(T0 + MINUTE);
    expect(restored.nodeNameOf('i-cccc0001')).toBe('c');

    // Node b was deleted during the restart.
    const change = restored.observe([node('a', 'i-aaaa0001')], T0 + 10 * MINUTE);
    expect(change.departed).toEqual(['i-bbbb0001']);
    expect(restored.departed.get('i-bbbb0001')).toBe(T0 + 10 * MINUTE);

    // JSON.stringify(inventory) wraps the text in a string literal; that form reads back too.
    expect(NodeInventory.fromJSON(JSON.stringify(inv)).toJSON()).toBe(text);
  });

  it('ignores junk instead of failing', () => {
    for (const junk of [undefined, '', '{', '[]', 'null', '42', '{"version":2,"current":{}}']) {
      const { inventory, problems } = NodeInventory.parse(junk);
      expect(inventory.current.size).toBe(0);
      expect(inventory.departed.size).toBe(0);
      if (junk !== undefined && junk !== '') expect(problems.length).toBeGreaterThan(0);
    }
    const { inventory, problems } = NodeInventory.parse(
      JSON.stringify({
        version: 1,
        current: { 'i-good0001': { since: T0, node: 'a' }, 'not-an-id': { since: T0 }, 'i-bad00001': { since: 'yesterday' }, 'i-both0001': { since: T0 } },
        departed: { 'i-gone0001': { since: T0, node: 7 }, 'i-both0001': { since: T0 }, 'i-neg00001': { since: -1 }, 'i-nul00001': null },
        extra: 'ignored',
      }),
    );
    expect([...inventory.current].sort()).toEqual(['i-both0001', 'i-good0001']);
    expect([...inventory.departed.keys()]).toEqual(['i-gone0001']);
    expect(inventory.nodeNameOf('i-gone0001')).toBe('');
    expect(problems).toHaveLength(5);
    expect(NodeInventory.parse('{"version":1,"current":[1,2],"departed":"x"}').problems).toHaveLength(2);
  });

  it('applies the size bound to what it reads', () => {
    const departed = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`i-old0000${i}`, { since: T0 + i }]));
    const { inventory, problems } = NodeInventory.parse(JSON.stringify({ version: 1, departed }), { maxDeparted: 3 });
    expect([...inventory.departed.keys()].sort()).toEqual(['i-old00002', 'i-old00003', 'i-old00004']);
    expect(problems).toHaveLength(1);
  });

  it('exports the annotation QKE sets', () => {
    expect(INSTANCE_ID_ANNOTATION).toBe('node.beta.kubernetes.io/instance-id');
  });
});
