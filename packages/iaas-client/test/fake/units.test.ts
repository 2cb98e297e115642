import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/fake/clock.ts';
import { cidrContains, formatIpv4, hostRange, parseCidr, parseIpv4 } from '../../src/fake/ipv4.ts';
import { omitAt, setAt } from '../../src/fake/json-path.ts';
import { LagTracker } from '../../src/fake/lag.ts';
import { IdGenerator, SeededRandom } from '../../src/fake/random.ts';

describe('json-path', () => {
  const doc = (): Record<string, unknown> => ({ a: [{ b: 1, c: 2 }, { b: 3 }], d: { e: 'x' } });

  it('omits through wildcards and indexes, removing array elements without holes', () => {
    const value = doc();
    expect(omitAt(value, 'a.*.b')).toBe(2);
    expect(value).toEqual({ a: [{ c: 2 }, {}], d: { e: 'x' } });
    const list = doc();
    expect(omitAt(list, 'a.0')).toBe(1);
    expect(list['a']).toEqual([{ b: 3 }]);
    expect(omitAt(doc(), 'a.5.b')).toBe(0);
    expect(omitAt(doc(), 'nothing.here')).toBe(0);
  });

  it('sets values, creating a missing leaf on objects only', () => {
    const value = doc();
    expect(setAt(value, 'a.*.c', '2')).toBe(2);
    expect(value['a']).toEqual([{ b: 1, c: '2' }, { b: 3, c: '2' }]);
    expect(setAt(value, 'd', null)).toBe(1);
    expect(value['d']).toBeNull();
    expect(setAt(value, 'a.9', 1)).toBe(0);
  });
});

describe('ipv4', () => {
  it('parses strictly and does CIDR arithmetic', () => {
    expect(parseIpv4('192.168.0.1')).toBe(0xc0a80001);
    for (const bad of ['192.168.0', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4 ']) expect(parseIpv4(bad)).toBeUndefined();
    const cidr = parseCidr('10.1.2.77/24');
    expect(cidr).toEqual({ network: parseIpv4('10.1.2.0'), prefix: 24, size: 256 });
    if (cidr === undefined) return;
    expect(cidrContains(cidr, parseIpv4('10.1.2.255') ?? 0)).toBe(true);
    expect(cidrContains(cidr, parseIpv4('10.1.3.0') ?? 0)).toBe(false);
    expect(formatIpv4(hostRange(cidr).last)).toBe('10.1.2.254');
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });
});

describe('seeded ids', () => {
  it('are deterministic per seed and shaped like QingCloud ids', () => {
    const gen = (seed: number): string[] => {
      const ids = new IdGenerator(new SeededRandom(seed, 'ids'));
      return [ids.id('i-', 8), ids.id('vxnet-', 7), ids.mac()];
    };
    expect(gen(1)).toEqual(gen(1));
    expect(gen(1)).not.toEqual(gen(2));
    const [instance, vxnet, mac] = gen(1);
    expect(instance).toMatch(/^i-[a-z0-9]{8}$/);
    expect(vxnet).toMatch(/^vxnet-[a-z0-9]{7}$/);
    expect(mac).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
  });

  it('avoid taken ids', () => {
    const first = new IdGenerator(new SeededRandom(1, 'ids')).id('i-', 8);
    const second = new IdGenerator(new SeededRandom(1, 'ids')).id('i-', 8, (id) => id === first);
    expect(second).not.toBe(first);
  });
});

describe('virtual clock', () => {
  it('runs due tasks in due order, stepping time to each, including tasks they schedule', async () => {
    const clock = new FakeClock('virtual', 0, (err) => {
      throw err;
    });
    const seen: string[] = [];
    clock.schedule(300, () => {
      seen.push(`c@${clock.nowMs()}`);
    });
    clock.schedule(100, () => {
      seen.push(`a@${clock.nowMs()}`);
      clock.schedule(200, () => {
        seen.push(`b@${clock.nowMs()}`);
      });
    });
    await clock.advance(250);
    expect(seen).toEqual(['a@100', 'b@200']);
    expect(clock.nowMs()).toBe(250);
    await clock.advance(50);
    expect(seen).toEqual(['a@100', 'b@200', 'c@300']);
  });

  it('skew changes reported time only', async () => {
    const clock = new FakeClock('virtual', 1000, () => undefined);
    clock.setSkew(-500);
    expect(clock.now().getTime()).toBe(500);
    expect(clock.nowMs()).toBe(1000);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('lag tracker', () => {
  it('shows the oldest pre-mutation view until the lag expires', () => {
    const lag = new LagTracker();
    const table = new Map<string, { v: number }>([['a', { v: 1 }]]);
    const tables = new Map<string, Map<string, unknown>>([['t', table]]);
    const before = lag.capture(tables);
    table.set('a', { v: 2 });
    table.set('b', { v: 9 });
    lag.commit(before, tables, 100, 0);
    expect(lag.view('t', table, 50)).toEqual([{ v: 1 }]);
    table.delete('a');
    expect(lag.view('t', table, 50)).toEqual([{ v: 1 }]);
    expect(lag.view('t', table, 100)).toEqual([{ v: 9 }]);
  });
});
