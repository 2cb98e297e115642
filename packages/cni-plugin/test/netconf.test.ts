import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CniError } from '../src/errors.ts';
import { DEFAULT_TIMEOUTS, decodeConfig, parseNetConf, peekLogSettings } from '../src/netconf.ts';

function error(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

/** The hostnic-cni key of ConfigMap hostnic-cfg-cm, as deployed. */
const DEPLOYED = { cniVersion: '0.3.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18', hairpin: false, natMark: '0x10000' };

const strict = (raw: Record<string, unknown>) => parseNetConf(raw, '1.0.0', { strict: true });
const lenient = (raw: Record<string, unknown>) => parseNetConf(raw, '1.0.0', { strict: false });

describe('decodeConfig', () => {
  it('needs a JSON object with a valid name', () => {
    expect(error(() => decodeConfig('{')).code).toBe(6);
    expect(error(() => decodeConfig('{')).message).toMatch(/^error unmarshall network config: /);
    expect(error(() => decodeConfig('[]')).code).toBe(6);
    expect(error(() => decodeConfig('{"name":""}')).message).toBe('missing network name');
    expect(error(() => decodeConfig('{}')).code).toBe(7);
    const e = error(() => decodeConfig('{"name":"-bad"}'));
    expect([e.code, e.message, e.details]).toEqual([7, 'invalid characters found in network name', '-bad']);
    expect(decodeConfig('{"name":"hostnic"}')).toEqual({ name: 'hostnic' });
  });
});

describe('parseNetConf', () => {
  it('keeps the original defaults', () => {
    const c = strict({ ...DEPLOYED });
    expect(c.plugin).toEqual({
      cniVersion: '1.0.0',
      name: 'hostnic',
      vethPrefix: 'vnic',
      mtu: 1500,
      serviceCIDR: '10.233.0.0/18',
      natMark: '0x10000',
      interface: 'eth0',
      hairpin: false,
    });
    expect(c.socketPath).toBe('/var/run/hostnic/hostnic.socket');
    expect(c.spoolDir).toBe('/var/lib/hostnic/spool');
    expect(c.timeouts).toEqual(DEFAULT_TIMEOUTS);
    expect(c.logLevel).toBe(4);
    expect(c.logFile).toBeUndefined();
    expect(c.warnings).toEqual([]);
    expect(strict({ name: 'n', mtu: 0, vethPrefix: '', natMark: '', serviceCIDR: '' }).plugin).toMatchObject({ mtu: 1500, vethPrefix: 'vnic', natMark: '0x10000', serviceCIDR: undefined });
  });

  it('names the field and the fix for bad values', () => {
    const cidr = error(() => strict({ ...DEPLOYED, serviceCIDR: '10.0.0.0/33' }));
    expect([cidr.code, cidr.message, cidr.details]).toEqual([
      7,
      'serviceCIDR "10.0.0.0/33" is not a CIDR',
      "set it to the cluster's service range, e.g. 10.233.0.0/18",
    ]);
    expect(error(() => strict({ ...DEPLOYED, vethPrefix: 'calico' })).message).toBe('vethPrefix "calico" is longer than 4 characters');
    expect(error(() => strict({ ...DEPLOYED, mtu: 40 })).message).toBe('mtu 40 is out of range');
    expect(error(() => strict({ ...DEPLOYED, natMark: '0x1g' })).message).toBe('natMark "0x1g" is not a packet mark');
    expect(error(() => strict({ ...DEPLOYED, interface: 'eth 0' })).message).toBe('interface "eth 0" is not an interface name');
    expect(error(() => strict({ ...DEPLOYED, socketPath: 'hostnic.sock' })).message).toBe('socketPath "hostnic.sock" is not an absolute path');
    expect(error(() => strict({ ...DEPLOYED, socketPath: `/${'x'.repeat(120)}` })).message).toMatch(/longer than 107 bytes/);
    expect(error(() => strict({ ...DEPLOYED, logLevel: 9 })).message).toBe('logLevel 9 is not a log level');
  });

  it('rejects wrong types with code 7 naming the field', () => {
    for (const [key, value, expected] of [
      ['mtu', '1500', '"mtu" must be an integer, not a string'],
      ['mtu', 1500.5, '"mtu" must be an integer, not a number'],
      ['hairpin', 'false', '"hairpin" must be true or false, not a string'],
      ['natMark', 65536, '"natMark" must be a string, not a number'],
      ['serviceCIDR', ['10.233.0.0/18'], '"serviceCIDR" must be a string, not an array'],
      ['spoolDir', {}, '"spoolDir" must be a string, not a object'],
      ['timeouts', 5, '"timeouts" must be an object of seconds, not a number'],
    ] as const) {
      const e = error(() => strict({ ...DEPLOYED, [key]: value }));
      expect([e.code, e.message]).toEqual([7, expected]);
    }
  });

  it('accepts the keys the original ignored, with a warning for each', () => {
    const c = strict({ ...DEPLOYED, hostNicType: 'passthrough', rt2Pod: 252, server: { name: 'x', type: 'y' }, capabilities: { portMappings: true, bandwidth: false } });
    expect(c.plugin).toEqual(strict({ ...DEPLOYED }).plugin);
    expect(c.warnings).toEqual([
      'hostNicType "passthrough" is ignored: hostnic always gives pods a veth pair (the original\'s agent overrode this key too); remove it',
      'rt2Pod 252 is ignored: host routes to pods live in the main table (254); remove rt2Pod',
      '"server" {"name":"x","type":"y"} is ignored: it never had an effect; use "socketPath" to point the plugin at hostnic-agent',
      '"capabilities" portMappings=true ignored: hostnic takes no runtime capabilities; put portmap (portMappings), bandwidth (bandwidth) or tuning after hostnic in a .conflist and give them the capabilities',
    ]);
    expect(strict({ ...DEPLOYED, hostNicType: 'veth', rt2Pod: 254, capabilities: { portMappings: false } }).warnings).toEqual([]);
    // Values the original could not decode either stay config errors.
    expect(error(() => strict({ ...DEPLOYED, rt2Pod: '252' })).message).toBe('"rt2Pod" must be an integer, not a string');
    expect(error(() => strict({ ...DEPLOYED, capabilities: ['portMappings'] })).message).toBe('"capabilities" must be an object of booleans, not an array');
  });

  it("loads the original's own configs (test/test.conf, ConfigMap hostnic-cfg-cm)", async () => {
    const load = async (file: string) => decodeConfig(await readFile(new URL(`./fixtures/original/${file}`, import.meta.url), 'utf8'));
    const test = strict(await load('test.conf.json'));
    expect(test.plugin).toMatchObject({ serviceCIDR: '10.233.0.0/18', hairpin: true, natMark: '0x10000', vethPrefix: 'vnic' });
    expect(test.logFile).toBe('/tmp/output.log');
    expect(test.warnings).toEqual(['rt2Pod 252 is ignored: host routes to pods live in the main table (254); remove rt2Pod']);
    const cm = strict(await load('hostnic-cfg-cm.hostnic-cni.json'));
    expect(cm.plugin).toMatchObject({ serviceCIDR: '10.233.0.0/18', hairpin: false, natMark: '0x10000' });
    expect(cm.warnings).toEqual([]);
  });

  it('reads keys case-insensitively, with a warning', () => {
    const c = strict({ ...DEPLOYED, MTU: 9000, vethprefix: 'abc' });
    expect(c.plugin.mtu).toBe(9000);
    expect(c.plugin.vethPrefix).toBe('abc');
    expect(c.warnings).toContain('network config key "MTU" read as "mtu"; spell it "mtu"');
    expect(strict({ ...DEPLOYED, mtu: 1400, MTU: 9000 }).plugin.mtu).toBe(1400);
    expect(error(() => strict({ ...DEPLOYED, Mtu: 1, MTU: 2 })).message).toBe('network config has "Mtu" and "MTU"');
  });

  it('falls back to defaults with warnings on DEL and GC', () => {
    const c = lenient({ ...DEPLOYED, serviceCIDR: 'nope', mtu: 'x', vethPrefix: 'toolong', rt2Pod: 'x', capabilities: 1 });
    expect(c.plugin.serviceCIDR).toBeUndefined();
    expect(c.plugin.mtu).toBe(1500);
    expect(c.plugin.vethPrefix).toBe('vnic');
    expect(c.warnings).toHaveLength(5);
    expect(c.warnings[0]).toContain('vethPrefix');
  });

  it('takes defaultNamespace for containers that are not Kubernetes pods', () => {
    expect(strict({ ...DEPLOYED }).defaultNamespace).toBe('default');
    expect(strict({ ...DEPLOYED, defaultNamespace: 'podman-1' }).defaultNamespace).toBe('podman-1');
    const e = error(() => strict({ ...DEPLOYED, defaultNamespace: 'Not_A_Name' }));
    expect([e.code, e.message]).toEqual([7, 'defaultNamespace "Not_A_Name" is not a Kubernetes namespace name']);
    expect(error(() => strict({ ...DEPLOYED, defaultNamespace: 'x'.repeat(64) })).code).toBe(7);
    expect(lenient({ ...DEPLOYED, defaultNamespace: '-x' }).defaultNamespace).toBe('default');
  });

  it('takes timeouts in seconds and names unknown ones', () => {
    expect(strict({ ...DEPLOYED, timeouts: { add: 2.5, del: 1, connect: 0.2 } }).timeouts).toMatchObject({ addMs: 2500, delMs: 1000, connectMs: 200 });
    expect(error(() => strict({ ...DEPLOYED, timeouts: { ad: 2 } })).message).toBe('timeouts.ad is not a timeout hostnic knows');
    expect(error(() => strict({ ...DEPLOYED, timeouts: { add: -1 } })).message).toMatch(/^timeouts.add -1 is not a number of seconds/);
  });

  it('accepts log levels as numbers or names', () => {
    expect(strict({ ...DEPLOYED, logLevel: 5 }).logLevel).toBe(5);
    expect(strict({ ...DEPLOYED, logLevel: 'debug' }).logLevel).toBe(5);
    expect(strict({ ...DEPLOYED, logLevel: 0 }).logLevel).toBe(4);
    expect(peekLogSettings({ logLevel: 'nonsense', logFile: '/tmp/x.log' })).toEqual({ logLevel: 4, logFile: '/tmp/x.log' });
  });
});
