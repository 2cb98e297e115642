import { describe, expect, it } from 'vitest';
import { byCodeUnits } from '../src/order.ts';

describe('byCodeUnits', () => {
  it('sorts names by UTF-16 code units: upper case before lower, digits before letters, a prefix first', () => {
    expect(['veth1', 'eth0', 'Eth', 'eth', 'br_0', '10', 'a'].sort(byCodeUnits)).toEqual(['10', 'Eth', 'a', 'br_0', 'eth', 'eth0', 'veth1']);
  });

  it('returns 0 only for equal strings and is antisymmetric', () => {
    expect(byCodeUnits('nic', 'nic')).toBe(0);
    expect(byCodeUnits('a', 'b')).toBe(-1);
    expect(byCodeUnits('b', 'a')).toBe(1);
  });
});
