import { describe, expect, it } from 'vitest';
import { CniError } from '../src/errors.ts';
import { checkSupported, checkVerbAllowed, errorVersion, requestedVersion, versionInfo } from '../src/versions.ts';

function error(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('versions', () => {
  it('answers VERSION with all five, as 1.1.0, compact with a newline', () => {
    expect(versionInfo()).toBe('{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
  });

  it('reads an absent cniVersion as 0.1.0 and rejects it with code 1', () => {
    expect(requestedVersion({})).toEqual({ version: '0.1.0', given: false });
    const e = error(() => checkSupported('0.1.0', false));
    expect([e.code, e.message]).toEqual([1, 'incompatible CNI versions']);
    expect(e.details).toContain('config has no cniVersion');
    expect(error(() => checkSupported('0.2.0', true)).details).toBe(
      'config is "0.2.0", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]; set "cniVersion" of the network configuration to one of them (e.g. "1.0.0")',
    );
    expect(checkSupported('1.1.0', true)).toBe('1.1.0');
  });

  it('rejects a cniVersion that is not a string with code 6', () => {
    expect(error(() => requestedVersion({ cniVersion: 1 })).code).toBe(6);
  });

  it('allows CHECK from 0.4.0 and GC/STATUS from 1.1.0', () => {
    expect(error(() => checkVerbAllowed('CHECK', '0.3.1')).message).toBe('config version does not allow CHECK');
    expect(() => checkVerbAllowed('CHECK', '0.4.0')).not.toThrow();
    expect(error(() => checkVerbAllowed('GC', '1.0.0')).code).toBe(1);
    expect(error(() => checkVerbAllowed('STATUS', '1.0.0')).code).toBe(1);
    expect(() => checkVerbAllowed('STATUS', '1.1.0')).not.toThrow();
    expect(() => checkVerbAllowed('ADD', '0.3.0')).not.toThrow();
  });

  it('puts cniVersion into errors for 1.x only', () => {
    expect(errorVersion(undefined)).toBeUndefined();
    expect(errorVersion('0.4.0')).toBeUndefined();
    expect(errorVersion('1.0.0')).toBe('1.0.0');
    expect(errorVersion('1.1.0')).toBe('1.1.0');
    expect(errorVersion('2.0.0')).toBe('1.1.0');
    expect(errorVersion('garbage')).toBeUndefined();
  });
});
