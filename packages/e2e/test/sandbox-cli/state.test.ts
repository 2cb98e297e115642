import { describe, expect, it } from 'vitest';
import { validatePrefix } from '@hostnic/sandbox/cluster';
import { parsePod } from '../../src/sandbox-cli/pods.ts';
import { prefixOf, SandboxUsageError, sandboxDirs, validateName } from '../../src/sandbox-cli/state.ts';
import { parseVxnets } from '../../src/sandbox-cli/up.ts';

describe('hostnic-sandbox arguments', () => {
  it('names: several sandboxes get distinct valid prefixes, stable per name', () => {
    expect(validatePrefix(prefixOf('default'))).toBe(prefixOf('default'));
    expect(prefixOf('a')).not.toBe(prefixOf('b'));
    expect(sandboxDirs('dev', '/x').root).toBe('/x/dev');
    expect(() => validateName('Dev_1')).toThrow(SandboxUsageError);
    expect(() => validateName('-a')).toThrow(/lower-case letters, digits and "-"/);
  });

  it('--vxnets: pod vxnets after the management one; a bad item is named with the fix', () => {
    const v = parseVxnets('vxnet-a1=172.16.8.0/24,vxnet-b2=172.16.9.0/24:vlan');
    expect(v.map((x) => [x.id, x.management === true, x.tunnelType ?? 'vxlan'])).toEqual([
      ['vxnet-mgmt001', true, 'vxlan'],
      ['vxnet-a1', false, 'vxlan'],
      ['vxnet-b2', false, 'vlan'],
    ]);
    expect(parseVxnets(undefined)).toHaveLength(3);
    expect(() => parseVxnets('vxnet-a1=172.16.8.0/24,oops')).toThrow(/item 2 "oops".*<vxnet id>=<cidr>/);
  });

  it('pods are NAMESPACE/NAME', () => {
    expect(parsePod('shop/web-1')).toEqual({ namespace: 'shop', name: 'web-1' });
    expect(() => parsePod('web-1')).toThrow(/NAMESPACE\/NAME/);
  });
});
