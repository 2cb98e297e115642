/**
 * CNI results: read from any supported version (prevResult, the agent's answer), merged when hostnic runs
 * after another plugin, and printed in the version the runtime asked for.
 */

import type { CniDns, CniResult } from '@hostnic/protocol';
import { InvalidConfigError } from './errors.ts';
import type { CniVersion } from './versions.ts';
import { atLeast, ipsCarryVersion } from './versions.ts';

export interface ResultInterface {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

export interface ResultIp {
  interface?: number;
  address: string;
  gateway?: string;
}

export interface ResultRoute {
  dst: string;
  gw?: string;
  /** 1.1.0 */
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** A result in the newest shape; `version` of 0.x ips is derived from the address when printing. */
export interface Result {
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: ResultRoute[];
  dns: CniDns;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(where: string, what: string): InvalidConfigError {
  return new InvalidConfigError(`${where} ${what}`, 'the result must follow the CNI spec (interfaces, ips, routes, dns)', where);
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`${where}.${key}`, 'must be a string');
  return v;
}

function optInt(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${where}.${key}`, 'must be an integer');
  return v;
}

function list(o: Obj, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${where}.${key}`, 'must be a list');
  return v;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV6_CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/;

function isCidr(s: string): boolean {
  const m = IPV4_CIDR.exec(s);
  if (m) return m.slice(1, 5).every((p) => Number(p) <= 255) && Number(m[5]) <= 32;
  return IPV6_CIDR.test(s) && s.includes(':');
}

function stringList(o: Obj, key: string, where: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`${where}.${key}`, 'must be a list of strings');
  return v as string[];
}

/** Reads a result of any supported version; `where` names it in errors (e.g. `prevResult`). */
export function parseResult(raw: unknown, where: string): Result {
  if (!isObj(raw)) throw bad(where, 'must be an object');
  const interfaces = list(raw, 'interfaces', where).map((v, i): ResultInterface => {
    const at = `${where}.interfaces[${i}]`;
    if (!isObj(v)) throw bad(at, 'must be an object');
    const name = optString(v, 'name', at);
    if (name === undefined) throw bad(`${at}.name`, 'is missing');
    const out: ResultInterface = { name };
    const mac = optString(v, 'mac', at);
    if (mac !== undefined) out.mac = mac;
    const mtu = optInt(v, 'mtu', at);
    if (mtu !== undefined && mtu !== 0) out.mtu = mtu;
    const sandbox = optString(v, 'sandbox', at);
    if (sandbox !== undefined) out.sandbox = sandbox;
    const socketPath = optString(v, 'socketPath', at);
    if (socketPath !== undefined) out.socketPath = socketPath;
    const pciID = optString(v, 'pciID', at);
    if (pciID !== undefined) out.pciID = pciID;
    return out;
  });
  const ips = list(raw, 'ips', where).map((v, i): ResultIp => {
    const at = `${where}.ips[${i}]`;
    if (!isObj(v)) throw bad(at, 'must be an object');
    const address = optString(v, 'address', at);
    if (address === undefined) throw bad(`${at}.address`, 'is missing');
    if (!isCidr(address)) throw bad(`${at}.address`, `"${address}" is not an address in CIDR form`);
    const out: ResultIp = { address };
    const index = optInt(v, 'interface', at);
    if (index !== undefined) {
      if (index < 0 || index >= interfaces.length) throw bad(`${at}.interface`, `${index} does not index interfaces`);
      out.interface = index;
    }
    const gateway = optString(v, 'gateway', at);
    if (gateway !== undefined) out.gateway = gateway;
    return out;
  });
  const routes = list(raw, 'routes', where).map((v, i): ResultRoute => {
    const at = `${where}.routes[${i}]`;
    if (!isObj(v)) throw bad(at, 'must be an object');
    const dst = optString(v, 'dst', at);
    if (dst === undefined) throw bad(`${at}.dst`, 'is missing');
    const out: ResultRoute = { dst };
    const gw = optString(v, 'gw', at);
    if (gw !== undefined) out.gw = gw;
    for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      const n = optInt(v, key, at);
      if (n !== undefined) out[key] = n;
    }
    return out;
  });
  const dnsRaw = raw['dns'];
  const dns: CniDns = {};
  if (dnsRaw !== undefined && dnsRaw !== null) {
    if (!isObj(dnsRaw)) throw bad(`${where}.dns`, 'must be an object');
    const nameservers = stringList(dnsRaw, 'nameservers', `${where}.dns`);
    if (nameservers) dns.nameservers = nameservers;
    const domain = optString(dnsRaw, 'domain', `${where}.dns`);
    if (domain !== undefined) dns.domain = domain;
    const search = stringList(dnsRaw, 'search', `${where}.dns`);
    if (search) dns.search = search;
    const options = stringList(dnsRaw, 'options', `${where}.dns`);
    if (options) dns.options = options;
  }
  return { interfaces, ips, routes, dns };
}

/** The result as the agent protocol types it. */
export function toProtocolResult(r: Result): CniResult {
  const out: CniResult = {
    interfaces: r.interfaces.map((i) => ({ ...i, mac: i.mac ?? '' })),
    ips: r.ips.map((ip) => ({ ...ip })),
    dns: { ...r.dns },
  };
  if (r.routes.length > 0) out.routes = r.routes.map((x) => ({ ...x }));
  return out;
}

function dnsIsEmpty(d: CniDns): boolean {
  return !d.nameservers?.length && !d.domain && !d.search?.length && !d.options?.length;
}

/**
 * hostnic after another plugin: a previous plugin that already made CNI_IFNAME in this sandbox cannot be
 * combined with hostnic, which creates that interface itself. Checked before the agent is asked.
 */
export function checkChainable(prev: Result, ifName: string, netns: string): void {
  const clash = prev.interfaces.find((i) => i.name === ifName && i.sandbox !== undefined && i.sandbox === netns);
  if (clash) {
    throw new InvalidConfigError(
      `prevResult already has interface ${ifName} in ${netns}`,
      'hostnic creates the pod interface itself: put hostnic first in the "plugins" of the conflist, or give the other plugin another interface',
      'prevResult',
    );
  }
}

/** hostnic's result appended to the previous one, as a chained plugin that adds interfaces would do. */
export function mergeChained(prev: Result, ours: Result): Result {
  const offset = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...ours.interfaces],
    ips: [...prev.ips, ...ours.ips.map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset }))],
    routes: [...prev.routes, ...ours.routes],
    dns: dnsIsEmpty(prev.dns) ? ours.dns : prev.dns,
  };
}

function ipVersion(address: string): '4' | '6' {
  return address.includes(':') ? '6' : '4';
}

/**
 * The result in `version`'s shape, built key by key so the order is the reference libraries' [compat]:
 * 4-space indentation, no trailing newline, `dns` always present.
 */
export function formatResult(r: Result, version: CniVersion): string {
  const is11 = atLeast(version, '1.1.0');
  const out: Obj = { cniVersion: version };
  if (r.interfaces.length > 0) {
    out['interfaces'] = r.interfaces.map((i) => {
      const o: Obj = { name: i.name };
      if (i.mac !== undefined) o['mac'] = i.mac;
      if (is11 && i.mtu !== undefined) o['mtu'] = i.mtu;
      if (i.sandbox !== undefined) o['sandbox'] = i.sandbox;
      if (is11 && i.socketPath !== undefined) o['socketPath'] = i.socketPath;
      if (is11 && i.pciID !== undefined) o['pciID'] = i.pciID;
      return o;
    });
  }
  if (r.ips.length > 0) {
    out['ips'] = r.ips.map((ip) => {
      const o: Obj = {};
      if (ipsCarryVersion(version)) o['version'] = ipVersion(ip.address);
      if (ip.interface !== undefined) o['interface'] = ip.interface;
      o['address'] = ip.address;
      if (ip.gateway !== undefined) o['gateway'] = ip.gateway;
      return o;
    });
  }
  if (r.routes.length > 0) {
    out['routes'] = r.routes.map((x) => {
      const o: Obj = { dst: x.dst };
      if (x.gw !== undefined) o['gw'] = x.gw;
      if (is11) {
        for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
          if (x[key] !== undefined) o[key] = x[key];
        }
      }
      return o;
    });
  }
  const dns: Obj = {};
  if (r.dns.nameservers?.length) dns['nameservers'] = r.dns.nameservers;
  if (r.dns.domain) dns['domain'] = r.dns.domain;
  if (r.dns.search?.length) dns['search'] = r.dns.search;
  if (r.dns.options?.length) dns['options'] = r.dns.options;
  out['dns'] = dns;
  return JSON.stringify(out, null, 4);
}

/** The pod's IPv4 address (without prefix) in a previous result, when it can be told apart. */
export function podIpOf(r: Result, ifName: string): string | undefined {
  const v4 = (ip: ResultIp): boolean => !ip.address.includes(':');
  const ours = r.ips.filter((ip) => {
    if (ip.interface === undefined || !v4(ip)) return false;
    const iface = r.interfaces[ip.interface];
    return iface !== undefined && iface.name === ifName && iface.sandbox !== undefined;
  });
  // Without interface indexes only a lone IPv4 address can be taken as the pod's.
  const unindexed = r.ips.filter((ip) => v4(ip) && ip.interface === undefined);
  const pick = ours[0] ?? (r.ips.filter(v4).length === 1 && unindexed.length === 1 ? unindexed[0] : undefined);
  return pick?.address.split('/')[0];
}

/** The host end of hostnic's veth in a previous result: the sandbox-less interface named like one. */
export function hostVethOf(r: Result, prefix: string, expected?: string): ResultInterface | undefined {
  const host = r.interfaces.filter((i) => i.sandbox === undefined);
  if (expected !== undefined) {
    const exact = host.find((i) => i.name === expected);
    if (exact) return exact;
  }
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const pattern = new RegExp(`^${escaped}[0-9a-f]{11}$`);
  return host.find((i) => pattern.test(i.name));
}
