import { describe, expect, it } from 'vitest';
import { addrReplaceOp, InvalidArgumentError } from '../src/index.ts';

describe('address lifetimes (a DHCP lease on a bridge)', () => {
  it('passes valid and preferred lifetimes, preferred defaulting to valid', () => {
    expect(addrReplaceOp({ cidr: '172.16.4.220/24', dev: 'br_260', validLft: 120 }).args).toEqual([
      'addr', 'replace', '172.16.4.220/24', 'dev', 'br_260', 'valid_lft', '120', 'preferred_lft', '120',
    ]);
    expect(addrReplaceOp({ cidr: '172.16.4.220/24', dev: 'br_260', validLft: 120, preferredLft: 60 }).args.slice(-4)).toEqual([
      'valid_lft', '120', 'preferred_lft', '60',
    ]);
  });

  it('refuses a lifetime that is not whole seconds, or a preferred one alone', () => {
    expect(() => addrReplaceOp({ cidr: '10.0.0.1/24', dev: 'br_260', validLft: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => addrReplaceOp({ cidr: '10.0.0.1/24', dev: 'br_260', preferredLft: 5 })).toThrow(/needs validLft/);
  });
});
