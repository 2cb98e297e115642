/**
 * Small helpers for IP addresses, prefixes and MAC addresses: validation and normal forms for comparison.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { InvalidArgumentError } from './errors.ts';

/** 4 or 6 for a valid IP literal, 0 otherwise. */
export function ipFamily(address: string): 0 | 4 | 6 {
  const f = isIP(address);
  return f === 4 ? 4 : f === 6 ? 6 : 0;
}

/** Throws unless `address` is an IPv4 literal. */
export function assertIPv4(field: string, address: string): void {
  if (ipFamily(address) !== 4) throw new InvalidArgumentError(field, address, 'not an IPv4 address');
}

/** A prefix taken apart. */
export interface Prefix {
  readonly address: string;
  readonly length: number;
  readonly family: 4 | 6;
}

/** Parses `a.b.c.d/n`, `a.b.c.d` (host prefix), `x::y/n`, or `default`. Returns undefined when invalid. */
export function parsePrefix(text: string, defaultFamily: 4 | 6 = 4): Prefix | undefined {
  if (text === 'default' || text === 'all') {
    return defaultFamily === 4 ? { address: '0.0.0.0', length: 0, family: 4 } : { address: '::', length: 0, family: 6 };
  }
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return { address, length: max, family };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > max) return undefined;
  return { address, length, family };
}

/** `a.b.c.d/n` form of a prefix (host prefixes keep their /32). */
export function formatPrefix(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

/** Normal form of a prefix for comparison (`1.2.3.4` → `1.2.3.4/32`, `default` → `0.0.0.0/0`). */
export function normalizePrefix(text: string, defaultFamily: 4 | 6 = 4): string {
  const p = parsePrefix(text, defaultFamily);
  return p ? formatPrefix(p) : text;
}

/** Validates a prefix and returns its normal form. */
export function checkPrefix(field: string, text: string): string {
  const p = parsePrefix(text);
  if (!p) throw new InvalidArgumentError(field, text, 'not an IP prefix (a.b.c.d/n)');
  return formatPrefix(p);
}

/** The network address of an IPv4 prefix, e.g. `172.22.0.17/24` → `172.22.0.0/24`. */
export function ipv4Network(text: string): string | undefined {
  const p = parsePrefix(text);
  if (!p || p.family !== 4) return undefined;
  const n = p.address.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const mask = p.length === 0 ? 0 : (0xffffffff << (32 - p.length)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 0xff).join('.')}/${p.length}`;
}

const MAC = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;

/**
 * Normal form of a MAC address: lowercase, two hex digits per octet, colons. Accepts the forms tools print,
 * e.g. legacy ebtables' `52:54:9e:d0:d:6` and uppercase. Returns undefined when it is not a MAC.
 */
export function normalizeMac(text: string): string | undefined {
  const t = text.trim();
  if (!MAC.test(t)) return undefined;
  return t
    .split(':')
    .map((o) => o.toLowerCase().padStart(2, '0'))
    .join(':');
}

/** Validates a unicast MAC and returns its normal form. */
export function checkMac(field: string, text: string): string {
  const mac = normalizeMac(text);
  if (mac === undefined) throw new InvalidArgumentError(field, text, 'not a MAC address (xx:xx:xx:xx:xx:xx)');
  return mac;
}

/** Whether two MACs are equal, ignoring case and leading zeros. */
export function sameMac(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const na = normalizeMac(a);
  return na !== undefined && na === normalizeMac(b);
}

/**
 * A random MAC that is locally administered and unicast (first octet: bit 1 set, bit 0 clear), as the kernel
 * picks for veth ends. Chosen up front so that both ends' MACs are known without reading them back.
 */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
