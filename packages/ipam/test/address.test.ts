import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AddressOutOfRangeError,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIPv4,
  InvalidAddressError,
  InvalidCidrError,
  IpamError,
  isIPv4,
  normaliseCidr,
  parseCidr,
  parseIPv4,
  poolOrdinal,
  prefixMask,
  prefixSize,
} from '../src/index.ts';
import { catchError } from './helpers.ts';

describe('IPv4 addresses', () => {
  it('parses and formats as unsigned 32-bit numbers', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('172.16.3.2')).toBe(0xac100302);
    expect(formatIPv4(0xac100302)).toBe('172.16.3.2');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('round-trips every address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => parseIPv4(formatIPv4(n)) === n),
      { numRuns: 500 },
    );
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1..2.3'])(
    'rejects %j with a typed error naming the value',
    (text) => {
      expect(isIPv4(text)).toBe(false);
      const error = catchError(() => parseIPv4(text, 'spec.rangeStart'));
      expect(error).toBeInstanceOf(InvalidAddressError);
      expect(error).toBeInstanceOf(IpamError);
      expect((error as InvalidAddressError).code).toBe('InvalidAddress');
      expect((error as Error).message).toContain(JSON.stringify(text));
      expect((error as Error).message).toContain('spec.rangeStart');
    },
  );

  it('rejects IPv6 saying that only IPv4 is supported', () => {
    const error = catchError(() => parseIPv4('fe80::1', 'gateway'));
    expect(error).toBeInstanceOf(InvalidAddressError);
    expect((error as Error).message).toMatch(/IPv6.*IPv4 only/);
    const cidrError = catchError(() => parseCidr('fd00::/64', 'spec.cidr'));
    expect(cidrError).toBeInstanceOf(InvalidCidrError);
    expect((cidrError as Error).message).toMatch(/IPv6.*IPv4 only/);
    expect((cidrError as Error).message).toContain('spec.cidr');
  });
});

describe('CIDRs', () => {
  it('parses, keeps the address as written, and masks', () => {
    const cidr = parseCidr('192.168.0.1/24');
    expect(cidr).toEqual({ address: parseIPv4('192.168.0.1'), prefix: 24, network: parseIPv4('192.168.0.0'), size: 256 });
    expect(normaliseCidr('192.168.0.1/24')).toBe('192.168.0.0/24');
    expect(parseCidr('0.0.0.0/0').size).toBe(2 ** 32);
    expect(parseCidr('10.1.2.3/32')).toMatchObject({ network: parseIPv4('10.1.2.3'), size: 1 });
    expect(formatCidr(parseIPv4('10.0.0.0'), 8)).toBe('10.0.0.0/8');
  });

  it('computes masks and sizes at the edges', () => {
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(32)).toBe(0xffffffff);
    expect(prefixSize(27)).toBe(32);
  });

  it.each(['172.16.3.0', '172.16.3.0/33', '172.16.3.0/', '172.16.3.0/024', '172.16.3/24', '172.16.3.0/-1', '172.16.3.0/2 4'])(
    'rejects %j',
    (text) => {
      const error = catchError(() => parseCidr(text, 'spec.cidr'));
      expect(error).toBeInstanceOf(InvalidCidrError);
      expect((error as InvalidCidrError).field).toBe('spec.cidr');
      expect((error as Error).message).toContain(JSON.stringify(text));
    },
  );

  it('tests containment and overlap on masked networks', () => {
    const pool = parseCidr('172.16.3.0/24');
    expect(cidrContains(pool, parseIPv4('172.16.3.255'))).toBe(true);
    expect(cidrContains(pool, parseIPv4('172.16.4.0'))).toBe(false);
    expect(cidrsOverlap(pool, parseCidr('172.16.3.128/25'))).toBe(true);
    expect(cidrsOverlap(pool, parseCidr('172.16.4.0/24'))).toBe(false);
  });

  it('pool ordinals count from the masked network', () => {
    expect(poolOrdinal('192.168.0.1/24', '192.168.0.1')).toBe(1);
    const error = catchError(() => poolOrdinal('192.168.0.1/24', '192.168.1.1'));
    expect(error).toBeInstanceOf(AddressOutOfRangeError);
    expect((error as Error).message).toContain('192.168.1.1');
  });
});
