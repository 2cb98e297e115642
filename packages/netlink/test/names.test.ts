import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  bridgeName,
  hostVethName,
  nicLinkName,
  normalizeMac,
  randomMac,
  validateIfName,
  validateVethPrefix,
  vethPrefixProblem,
} from '../src/index.ts';

describe('host veth names [compat]', () => {
  it('derives the spec examples', () => {
    expect(hostVethName('default', 'nginx')).toBe('vnicc440f455693');
    expect(hostVethName('kubesphere-system', 'redis-6fd6c6d6f9-fmrrv')).toBe('vnicd1bd104e7c4');
    expect(hostVethName('', '')).toBe('vnic3a52ce78095');
  });

  it('uses the prefix and stays within 15 characters', () => {
    const name = hostVethName('default', 'nginx', 'cali');
    expect(name).toBe('calic440f455693');
    expect(name.length).toBe(15);
  });

  it('rejects prefixes longer than 4 characters', () => {
    expect(() => hostVethName('default', 'nginx', 'vnic1')).toThrow(InvalidArgumentError);
    expect(() => validateVethPrefix('a b')).toThrow(InvalidArgumentError);
    expect(validateVethPrefix('')).toBe('');
    expect(vethPrefixProblem('vnic')).toBeUndefined();
    expect(vethPrefixProblem('calic')).toBe('longer than 4 characters');
    expect(vethPrefixProblem('v/n')).toMatch(/letters, digits/);
  });
});

describe('NIC and bridge names [compat]', () => {
  it('names the NIC after the vxnet', () => {
    expect(nicLinkName('vxnet-abc1234')).toBe('hostnic_abc1234');
    expect(() => nicLinkName('vxnet-')).toThrow(InvalidArgumentError);
    expect(() => nicLinkName('vxnet-abcdefghijk')).toThrow(/longer than 15/);
  });

  it('names the bridge after the table', () => {
    expect(bridgeName(260)).toBe('br_260');
    expect(() => bridgeName(0)).toThrow(InvalidArgumentError);
    expect(() => bridgeName(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('interface name validation', () => {
  it('accepts kernel-valid names and rejects the rest', () => {
    expect(validateIfName('eth0')).toBe('eth0');
    expect(validateIfName('a.b-c_d')).toBe('a.b-c_d');
    for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'x'.repeat(16), 'a"b', '#x', 'a\tb']) {
      expect(() => validateIfName(bad), bad).toThrow(InvalidArgumentError);
    }
  });
});

describe('MACs', () => {
  it('picks locally administered unicast MACs', () => {
    for (let i = 0; i < 200; i++) {
      const mac = randomMac();
      expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const first = parseInt(mac.slice(0, 2), 16);
      expect(first & 1).toBe(0);
      expect(first & 2).toBe(2);
    }
  });

  it('normalises case and missing leading zeros', () => {
    expect(normalizeMac('52:54:9E:D0:D:6')).toBe('52:54:9e:d0:0d:06');
    expect(normalizeMac('52:54:9e:d0:dd')).toBeUndefined();
  });
});
