/**
 * `ip -json` output to typed objects. Accepts both the numeric form (`ip -N`: tables, scopes, protocols and
 * route types as numbers) and the named form, and fills in the fields ip leaves out when they have their
 * default value (table main, scope global, type unicast, protocol boot).
 *
 * @packageDocumentation
 */

import { normalizeMac, normalizePrefix, ipFamily } from './addr-util.ts';
import { ParseError } from './errors.ts';
import type { Address, Link, Neighbour, Route, RouteScope, Rule } from './types.ts';
import { RouteTable } from './types.ts';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ParseError(`expected a JSON array of ${what}`, JSON.stringify(v) ?? String(v));
  return v as unknown[];
}

function asObject(v: unknown, what: string): Json {
  if (!isObject(v)) throw new ParseError(`expected a JSON object for ${what}`, JSON.stringify(v) ?? String(v));
  return v;
}

function optString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function reqString(o: Json, key: string, what: string): string {
  const v = optString(o, key);
  if (v === undefined) throw new ParseError(`${what} without "${key}"`, JSON.stringify(o));
  return v;
}

function optNumber(o: Json, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function reqNumber(o: Json, key: string, what: string): number {
  const v = optNumber(o, key);
  if (v === undefined) throw new ParseError(`${what} without numeric "${key}"`, JSON.stringify(o));
  return v;
}

function stringList(o: Json, key: string): string[] {
  const v = o[key];
  return Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : [];
}

const TABLE_NAMES: Record<string, number> = {
  main: RouteTable.main,
  local: RouteTable.local,
  default: RouteTable.default,
  unspec: RouteTable.unspec,
};

/** A table as printed (`main`, `260`) to its number. */
export function parseTable(text: string | undefined): number {
  if (text === undefined) return RouteTable.main;
  if (/^\d+$/.test(text)) return Number(text);
  const n = TABLE_NAMES[text];
  if (n === undefined) throw new ParseError('unknown routing table name (read with ip -N)', text);
  return n;
}

const SCOPES_BY_NUMBER: Record<number, RouteScope> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

/** A scope as printed (`link`, `253`, `universe`) to its name. */
export function parseScope(text: string | undefined): RouteScope {
  if (text === undefined || text === 'universe' || text === 'global') return 'global';
  if (/^\d+$/.test(text)) return SCOPES_BY_NUMBER[Number(text)] ?? `scope-${Number(text)}`;
  if (text === 'site' || text === 'link' || text === 'host' || text === 'nowhere') return text;
  throw new ParseError('unknown scope', text);
}

const PROTOCOLS: Record<number, string> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  9: 'ra',
  16: 'dhcp',
};

/** A route protocol as printed to its name (numbers without a well-known name stay numbers). */
export function parseProtocol(text: string | undefined): string {
  if (text === undefined) return 'boot';
  if (/^\d+$/.test(text)) return PROTOCOLS[Number(text)] ?? text;
  return text;
}

const ROUTE_TYPES: Record<number, string> = {
  0: 'unspec',
  1: 'unicast',
  2: 'local',
  3: 'broadcast',
  4: 'anycast',
  5: 'multicast',
  6: 'blackhole',
  7: 'unreachable',
  8: 'prohibit',
  9: 'throw',
  10: 'nat',
};

function parseRouteType(text: string | undefined): string {
  if (text === undefined) return 'unicast';
  if (/^\d+$/.test(text)) return ROUTE_TYPES[Number(text)] ?? text;
  return text;
}

/** Links from `ip -json [-details] link show` or `addr show` (which carries the same fields). */
export function parseLinks(json: unknown): Link[] {
  const links = asArray(json, 'links').map((raw): Link => {
    const o = asObject(raw, 'link');
    const flags = stringList(o, 'flags');
    const info = isObject(o['linkinfo']) ? o['linkinfo'] : undefined;
    const peer = o['link'];
    return {
      index: reqNumber(o, 'ifindex', 'link'),
      name: reqString(o, 'ifname', 'link'),
      mac: normalizeMac(optString(o, 'address') ?? '') ?? '',
      mtu: reqNumber(o, 'mtu', 'link'),
      up: flags.includes('UP'),
      lowerUp: flags.includes('LOWER_UP'),
      operState: optString(o, 'operstate') ?? 'UNKNOWN',
      flags,
      kind: info ? optString(info, 'info_kind') : undefined,
      slaveKind: info ? optString(info, 'info_slave_kind') : undefined,
      master: optString(o, 'master'),
      alias: optString(o, 'ifalias'),
      peerIndex: optNumber(o, 'link_index'),
      peerName: typeof peer === 'string' ? peer : undefined,
      linkNetnsId: optNumber(o, 'link_netnsid'),
    };
  });
  // ip names a same-namespace peer instead of giving its index; resolve it so peerIndex is always set.
  const byName = new Map(links.map((l) => [l.name, l.index]));
  return links.map((l) =>
    l.peerIndex === undefined && l.peerName !== undefined ? { ...l, peerIndex: byName.get(l.peerName) } : l,
  );
}

/** Addresses from `ip -json addr show`. */
export function parseAddresses(json: unknown): Address[] {
  const out: Address[] = [];
  for (const raw of asArray(json, 'links with addresses')) {
    const o = asObject(raw, 'link');
    const ifIndex = reqNumber(o, 'ifindex', 'link');
    const ifName = reqString(o, 'ifname', 'link');
    const infos = o['addr_info'];
    if (!Array.isArray(infos)) continue;
    for (const rawInfo of infos as unknown[]) {
      const a = asObject(rawInfo, 'address');
      const fam = optString(a, 'family');
      const address = optString(a, 'local');
      if ((fam !== 'inet' && fam !== 'inet6') || address === undefined) continue;
      const prefixLength = reqNumber(a, 'prefixlen', 'address');
      out.push({
        family: fam === 'inet' ? 4 : 6,
        ifIndex,
        ifName,
        address,
        prefixLength,
        cidr: `${address}/${prefixLength}`,
        scope: parseScope(optString(a, 'scope')),
        label: optString(a, 'label'),
        broadcast: optString(a, 'broadcast'),
        peer: optString(a, 'address'),
      });
    }
  }
  return out;
}

function familyOfDst(dst: string, fallback: unknown): 4 | 6 {
  if (dst === 'default') return fallback === 'inet6' ? 6 : 4;
  const slash = dst.indexOf('/');
  return ipFamily(slash < 0 ? dst : dst.slice(0, slash)) === 6 ? 6 : 4;
}

/**
 * Routes from `ip -json route show ...`. ip leaves `table` out when the command named one table, so that
 * table is passed as `defaultTable` (default main).
 */
export function parseRoutes(json: unknown, defaultTable: number = RouteTable.main): Route[] {
  return asArray(json, 'routes').map((raw): Route => {
    const o = asObject(raw, 'route');
    const rawDst = reqString(o, 'dst', 'route');
    const family = familyOfDst(rawDst, o['family']);
    const flags = stringList(o, 'flags');
    return {
      family,
      type: parseRouteType(optString(o, 'type')),
      dst: normalizePrefix(rawDst, family),
      gateway: optString(o, 'gateway'),
      dev: optString(o, 'dev'),
      table: optString(o, 'table') === undefined ? defaultTable : parseTable(optString(o, 'table')),
      scope: parseScope(optString(o, 'scope')),
      protocol: parseProtocol(optString(o, 'protocol')),
      src: optString(o, 'prefsrc'),
      onlink: flags.includes('onlink'),
      metric: optNumber(o, 'metric'),
      flags,
      multipath: Array.isArray(o['nexthops']),
    };
  });
}

/** Keys of `ip -json rule` that are not selectors restricting what the rule matches. */
const RULE_BASE_KEYS = new Set(['priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'protocol', 'not', 'flags']);

/** Policy rules from `ip -json rule show`. */
export function parseRules(json: unknown, family: 4 | 6 = 4): Rule[] {
  return asArray(json, 'rules').map((raw): Rule => {
    const o = asObject(raw, 'rule');
    const prefix = (addrKey: string, lenKey: string): string | undefined => {
      const a = optString(o, addrKey);
      if (a === undefined || a === 'all') return undefined;
      const len = optNumber(o, lenKey);
      return normalizePrefix(len === undefined ? a : `${a}/${len}`, family);
    };
    const tableText = optString(o, 'table');
    const action = optString(o, 'action') ?? (tableText !== undefined ? 'lookup' : 'unknown');
    const extra: string[] = [];
    for (const key of Object.keys(o)) {
      if (RULE_BASE_KEYS.has(key)) continue;
      if (key === 'action' && action === 'lookup') continue;
      extra.push(key);
    }
    return {
      family,
      priority: reqNumber(o, 'priority', 'rule'),
      src: prefix('src', 'srclen'),
      dst: prefix('dst', 'dstlen'),
      table: tableText === undefined ? undefined : parseTable(tableText),
      action,
      not: o['not'] === true || o['not'] === null,
      iif: optString(o, 'iif'),
      oif: optString(o, 'oif'),
      fwmark: optString(o, 'fwmark'),
      fwmask: optString(o, 'fwmask'),
      extra,
    };
  });
}

/** Neighbour entries from `ip -json neigh show`. */
export function parseNeighbours(json: unknown): Neighbour[] {
  const out: Neighbour[] = [];
  for (const raw of asArray(json, 'neighbours')) {
    const o = asObject(raw, 'neighbour');
    const dst = reqString(o, 'dst', 'neighbour');
    const dev = optString(o, 'dev');
    if (dev === undefined) continue;
    const lladdr = optString(o, 'lladdr');
    out.push({
      family: ipFamily(dst) === 6 ? 6 : 4,
      dst,
      dev,
      lladdr: lladdr === undefined ? undefined : (normalizeMac(lladdr) ?? lladdr),
      state: stringList(o, 'state'),
      router: 'router' in o,
    });
  }
  return out;
}
