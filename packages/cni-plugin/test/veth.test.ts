import { describe, expect, it } from 'vitest';
import { hostVethName } from '../src/veth.ts';
import { validVethPrefix } from '../src/veth-prefix.ts';

describe('host veth name', () => {
  it('is the prefix and 11 hex of SHA-1 over <namespace>.<pod> [compat]', () => {
    expect(hostVethName('default', 'nginx')).toBe('vnicc440f455693');
    expect(hostVethName('kubesphere-system', 'redis-6fd6c6d6f9-fmrrv')).toBe('vnicd1bd104e7c4');
    expect(hostVethName('', '')).toBe('vnic3a52ce78095');
    expect(hostVethName('default', 'nginx', 'cali')).toBe('calic440f455693');
  });

  it('fits 15 characters with prefixes of up to 4', () => {
    expect(validVethPrefix('vnic')).toBe(true);
    expect(validVethPrefix('')).toBe(true);
    expect(validVethPrefix('calic')).toBe(false);
    expect(validVethPrefix('v/n')).toBe(false);
    expect(hostVethName('a', 'b', 'abcd')).toHaveLength(15);
  });
});
