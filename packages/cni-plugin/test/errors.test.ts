import { describe, expect, it } from 'vitest';
import { CniError, InvalidConfigError, TryAgainLaterError, formatError, toCniError } from '../src/errors.ts';

describe('error JSON', () => {
  it('keeps the original shape for 0.x: code, msg, details, 4 spaces, no newline [compat]', () => {
    const text = formatError(new InvalidConfigError('mtu 5 is out of range', 'use 68..65535'));
    expect(text).toBe('{\n    "code": 7,\n    "msg": "mtu 5 is out of range",\n    "details": "use 68..65535"\n}');
  });

  it('leads with cniVersion for 1.x and drops empty details', () => {
    expect(formatError(new TryAgainLaterError('agent down'), '1.0.0')).toBe('{\n    "cniVersion": "1.0.0",\n    "code": 11,\n    "msg": "agent down"\n}');
    expect(JSON.parse(formatError(new CniError(3, 'x', ''), '1.1.0'))).toEqual({ cniVersion: '1.1.0', code: 3, msg: 'x' });
  });

  it('turns anything else into the catch-all 999', () => {
    expect(toCniError(new Error('boom')).code).toBe(999);
    expect(toCniError('boom').message).toBe('boom');
    const e = new TryAgainLaterError('x');
    expect(toCniError(e)).toBe(e);
  });
});
