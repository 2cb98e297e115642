import { describe, expect, it } from 'vitest';
import {
  TIMESTAMP_PATTERN,
  canonicalQuery,
  encodeSignedQuery,
  flattenParams,
  formatTimestamp,
  percentEncode,
  signRequest,
  withSignerParams,
} from '../src/index.ts';

const KEY = 'QYACCESSKEYIDEXAMPLE';
const SECRET = 'SECRETACCESSKEY';
const WHEN = new Date('2013-08-27T14:30:10Z');

function sign(params: Record<string, string>, method: 'GET' | 'POST' = 'GET') {
  const all = withSignerParams({ zone: 'pek3a', ...params }, KEY, WHEN);
  return signRequest({ method, path: '/iaas', params: all, secretAccessKey: SECRET });
}

describe('signRequest: the spec vectors', () => {
  const v5 = { action: 'DescribeNics', 'instances.1': 'i-abcdefgh', status: 'in-use', limit: '64', offset: '0' };

  it('V5 GET', () => {
    expect(sign(v5).signature).toBe('HGNV4biYqpZkTwvZVKwlAHqodrTf63pO2jDX9mrhJ24=');
  });

  it('V5 POST', () => {
    expect(sign(v5, 'POST').signature).toBe('MwOA+ap9k9PcPMW/eBT59OxZUlINaaJpJOwZTrvRxbY=');
  });

  it('V6 encodes space, plus, colon, slash and UTF-8', () => {
    const s = sign({ action: 'CreateNics', vxnet: 'vxnet-abc', nic_name: 'a b+c:d/é', count: '1', disable_ip: '1' });
    expect(s.canonicalQuery).toContain('nic_name=a%20b%2Bc%3Ad%2F%C3%A9');
    expect(s.signature).toBe('I/1wYqGWQfKf3ziQAldRAFibWhnMF+nu/92Q0CpqcYs=');
  });

  it("V7 escapes !*'() (encodeURIComponent alone would not)", () => {
    const s = sign({ action: 'DescribeNics', nic_name: "x!*'()~y" });
    expect(s.canonicalQuery).toContain('nic_name=x%21%2A%27%28%29~y');
    expect(s.signature).toBe('5CjmvPRW0npaDgqkpk/4pTYm0NJBUU7lyi8BLimnnEo=');
  });

  it('V8 nested rule flattening', () => {
    const params = flattenParams({
      action: 'AddSecurityGroupRules',
      security_group: 'sg-12345678',
      rules: [
        {
          security_group_rule_name: 'hostnic_vxnet-abc',
          action: 'accept',
          direction: 0,
          priority: 0,
          protocol: 'all',
          val3: '172.22.0.0/16',
        },
      ],
    });
    expect(sign(params).signature).toBe('hbMBR2Mqjb9aivWfIbJi1kEwoFkwRmLHasLK9ezWBuw=');
  });

  it('HmacSHA1 is selected by signature_method', () => {
    const all = withSignerParams({ action: 'DescribeNics' }, KEY, WHEN, 'HmacSHA1');
    const s = signRequest({ method: 'GET', path: '/iaas', params: all, secretAccessKey: SECRET });
    expect(Buffer.from(s.signature, 'base64')).toHaveLength(20);
  });
});

describe('canonical query', () => {
  it('sorts names in byte order, not numerically', () => {
    const q = canonicalQuery({ 'nics.2': 'b', 'nics.10': 'c', 'nics.1': 'a', Zeta: 'z' });
    expect(q).toBe('Zeta=z&nics.1=a&nics.10=c&nics.2=b');
  });

  it('never includes signature, and the wire form ends with it', () => {
    const s = sign({ action: 'DescribeNics', signature: 'forged' });
    expect(s.stringToSign).not.toContain('signature=');
    const wire = encodeSignedQuery(s);
    expect(wire.endsWith(`&signature=${percentEncode(s.signature)}`)).toBe(true);
    expect(wire.match(/signature=/g)).toHaveLength(1);
  });

  it('string to sign is method, path and query on three lines', () => {
    const s = sign({ action: 'DescribeNics' }, 'POST');
    expect(s.stringToSign.split('\n')).toEqual(['POST', '/iaas', s.canonicalQuery]);
  });

  it('keeps empty values, trims whitespace (Go parity), uses upper-case hex, %20 and literal ~', () => {
    expect(canonicalQuery({ a: '', b: '  x y ', c: '~+' })).toBe('a=&b=x%20y&c=~%2B');
    expect(canonicalQuery({ b: ' x ' }, { trimValues: false })).toBe('b=%20x%20');
    expect(percentEncode('ü/')).toBe('%C3%BC%2F');
  });
});

describe('signer-owned parameters', () => {
  it('override what the caller supplied', () => {
    const p = withSignerParams(
      { access_key_id: 'evil', signature_method: 'x', signature_version: '9', time_stamp: 'old' },
      KEY,
      WHEN,
    );
    expect(p).toMatchObject({
      access_key_id: KEY,
      signature_method: 'HmacSHA256',
      signature_version: '1',
      time_stamp: '2013-08-27T14:30:10Z',
    });
  });

  it('time_stamp is UTC with seconds precision', () => {
    const ts = formatTimestamp(new Date('2024-02-29T23:59:59.987+08:00'));
    expect(ts).toBe('2024-02-29T15:59:59Z');
    expect(ts).toMatch(TIMESTAMP_PATTERN);
  });
});

describe('flattenParams', () => {
  it('lists become name.N, empty lists vanish, undefined is omitted, empty string kept', () => {
    expect(flattenParams({ nics: ['a', 'b'], vxnets: [], zone: undefined, name: '' })).toEqual({
      'nics.1': 'a',
      'nics.2': 'b',
      name: '',
    });
  });

  it('objects in lists become name.N.field; unset fields omitted; string lists joined with commas', () => {
    expect(
      flattenParams({ rules: [{ protocol: 'all', val3: '10.0.0.0/24', val1: undefined, ports: ['80', '443'] }] }),
    ).toEqual({ 'rules.1.protocol': 'all', 'rules.1.val3': '10.0.0.0/24', 'rules.1.ports': '80,443' });
    expect(canonicalQuery(flattenParams({ rules: [{ val3: '10.0.0.0/24' }] }))).toBe('rules.1.val3=10.0.0.0%2F24');
  });

  it('refuses non-finite numbers', () => {
    expect(() => flattenParams({ count: Number.NaN })).toThrow(/not a finite number/);
  });
});
