import { describe, expect, it } from 'vitest';
import { CniError } from '../src/errors.ts';
import type { Result } from '../src/result.ts';
import { checkChainable, formatResult, hostVethOf, mergeChained, parseResult, podIpOf, toProtocolResult } from '../src/result.ts';

const ours: Result = {
  interfaces: [
    { name: 'eth0', mac: '0a:58:0a:f4:00:05', sandbox: '/var/run/netns/cni-1', mtu: 1500 },
    { name: 'vnicc440f455693', mac: '16:d5:4a:0a:43:6c', mtu: 1500 },
  ],
  ips: [{ interface: 0, address: '172.22.0.239/32', gateway: '169.254.1.1' }],
  routes: [],
  dns: {},
};

describe('formatResult', () => {
  it('prints 0.3.x/0.4.0 as the original: version in ips, no routes, dns {}, 4 spaces, no newline [compat]', () => {
    const text = formatResult(ours, '0.3.0');
    expect(text.endsWith('\n')).toBe(false);
    expect(text).toBe(
      JSON.stringify(
        {
          cniVersion: '0.3.0',
          interfaces: [
            { name: 'eth0', mac: '0a:58:0a:f4:00:05', sandbox: '/var/run/netns/cni-1' },
            { name: 'vnicc440f455693', mac: '16:d5:4a:0a:43:6c' },
          ],
          ips: [{ version: '4', interface: 0, address: '172.22.0.239/32', gateway: '169.254.1.1' }],
          dns: {},
        },
        null,
        4,
      ),
    );
    expect(JSON.parse(formatResult(ours, '0.4.0')).cniVersion).toBe('0.4.0');
  });

  it('drops version from ips for 1.x and adds interface mtu for 1.1.0 only', () => {
    const v100 = JSON.parse(formatResult(ours, '1.0.0'));
    expect(v100.ips).toEqual([{ interface: 0, address: '172.22.0.239/32', gateway: '169.254.1.1' }]);
    expect(v100.interfaces[0]).toEqual({ name: 'eth0', mac: '0a:58:0a:f4:00:05', sandbox: '/var/run/netns/cni-1' });
    const v110 = JSON.parse(formatResult(ours, '1.1.0'));
    expect(v110.interfaces[0]).toEqual({ name: 'eth0', mac: '0a:58:0a:f4:00:05', mtu: 1500, sandbox: '/var/run/netns/cni-1' });
    expect(Object.keys(v110)).toEqual(['cniVersion', 'interfaces', 'ips', 'dns']);
  });

  it('keeps 1.1.0 route fields only for 1.1.0', () => {
    const r: Result = { ...ours, routes: [{ dst: '10.0.0.0/8', gw: '10.0.0.1', table: 100 }] };
    expect(JSON.parse(formatResult(r, '1.1.0')).routes).toEqual([{ dst: '10.0.0.0/8', gw: '10.0.0.1', table: 100 }]);
    expect(JSON.parse(formatResult(r, '1.0.0')).routes).toEqual([{ dst: '10.0.0.0/8', gw: '10.0.0.1' }]);
  });
});

describe('parseResult', () => {
  it('reads any version back to the same result', () => {
    for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const) {
      const back = parseResult(JSON.parse(formatResult(ours, v)), 'prevResult');
      expect(back.ips).toEqual(ours.ips);
      expect(back.interfaces.map((i) => i.name)).toEqual(['eth0', 'vnicc440f455693']);
    }
  });

  it('names what is wrong', () => {
    const at = (raw: unknown): string => {
      try {
        parseResult(raw, 'prevResult');
      } catch (e) {
        if (e instanceof CniError) return `${e.code} ${e.message}`;
      }
      return 'ok';
    };
    expect(at('x')).toBe('7 prevResult must be an object');
    expect(at({ ips: [{ address: '1.2.3.4' }] })).toBe('7 prevResult.ips[0].address "1.2.3.4" is not an address in CIDR form');
    expect(at({ ips: [{ address: '1.2.3.4/32', interface: 2 }] })).toBe('7 prevResult.ips[0].interface 2 does not index interfaces');
    expect(at({ interfaces: [{ mac: 'x' }] })).toBe('7 prevResult.interfaces[0].name is missing');
    expect(at({ dns: { nameservers: [1] } })).toBe('7 prevResult.dns.nameservers must be a list of strings');
    expect(at({ ips: [{ address: 'fd00::5/128' }] })).toBe('ok');
  });

  it('gives the agent protocol shape', () => {
    const p = toProtocolResult({ ...ours, interfaces: [{ name: 'lo' }] , ips: [] });
    expect(p).toEqual({ interfaces: [{ name: 'lo', mac: '' }], ips: [], dns: {} });
  });
});

describe('chaining', () => {
  const prev: Result = {
    interfaces: [{ name: 'net0', mac: '02:00:00:00:00:09', sandbox: '/var/run/netns/cni-1' }],
    ips: [{ interface: 0, address: '10.1.0.5/24' }],
    routes: [{ dst: '10.1.0.0/16' }],
    dns: { nameservers: ['10.1.0.1'] },
  };

  it('appends hostnic after a previous result, re-indexing its ips', () => {
    const m = mergeChained(prev, ours);
    expect(m.interfaces.map((i) => i.name)).toEqual(['net0', 'eth0', 'vnicc440f455693']);
    expect(m.ips).toEqual([prev.ips[0], { interface: 1, address: '172.22.0.239/32', gateway: '169.254.1.1' }]);
    expect(m.routes).toEqual(prev.routes);
    expect(m.dns).toEqual(prev.dns);
  });

  it('refuses a previous plugin that made the same interface in the same sandbox', () => {
    expect(() => checkChainable(prev, 'net0', '/var/run/netns/cni-1')).toThrow(/prevResult already has interface net0/);
    expect(() => checkChainable(prev, 'eth0', '/var/run/netns/cni-1')).not.toThrow();
  });

  it('finds the pod IP and host veth in a previous result', () => {
    const m = mergeChained(prev, ours);
    expect(podIpOf(m, 'eth0')).toBe('172.22.0.239');
    expect(podIpOf({ ...ours, interfaces: [], ips: [{ address: '172.22.0.9/32' }] }, 'eth0')).toBe('172.22.0.9');
    expect(podIpOf(prev, 'eth0')).toBeUndefined();
    expect(hostVethOf(m, 'vnic')?.name).toBe('vnicc440f455693');
    expect(hostVethOf(m, 'vnic', 'vnicc440f455693')?.mac).toBe('16:d5:4a:0a:43:6c');
    expect(hostVethOf(prev, 'vnic')).toBeUndefined();
  });
});
