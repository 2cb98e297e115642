/**
 * IPv4 address arithmetic. Addresses are unsigned 32-bit integers held in a JS number (always in
 * `0 … 2^32 − 1`, never negative), which keeps ordinal maths exact without BigInt.
 *
 * @packageDocumentation
 */
import { AddressOutOfRangeError, InvalidAddressError, InvalidCidrError } from './errors.ts';

/** A parsed IPv4 CIDR. */
export interface Ipv4Cidr {
  /** The address written before the slash (may have host bits set), unsigned 32-bit. */
  readonly address: number;
  /** The prefix length, 0 … 32. */
  readonly prefix: number;
  /** The masked network address, unsigned 32-bit. */
  readonly network: number;
  /** Number of addresses, `2^(32 − prefix)`. */
  readonly size: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(0|[1-9][0-9]?)$/;

/**
 * Parses a dotted-decimal IPv4 address without throwing.
 * @param text - e.g. `172.16.3.2`
 * @returns the address as an unsigned 32-bit number, or `undefined` when `text` is not one
 */
export function tryParseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused (as Go ≥ 1.17 does) because some tools read them as octal.
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * Parses a dotted-decimal IPv4 address.
 * @param text - e.g. `172.16.3.2`
 * @param field - names the source of the value in the error message
 * @returns the address as an unsigned 32-bit number
 * @throws {@link InvalidAddressError} for malformed input and for IPv6
 */
export function parseIPv4(text: string, field?: string): number {
  const value = tryParseIPv4(text);
  if (value === undefined) throw new InvalidAddressError(text, field);
  return value;
}

/**
 * Whether `text` is a well-formed dotted-decimal IPv4 address.
 * @param text - the candidate
 */
export function isIPv4(text: string): boolean {
  return tryParseIPv4(text) !== undefined;
}

/**
 * Formats an unsigned 32-bit number as a dotted-decimal address.
 * @param value - integer in `0 … 2^32 − 1`
 * @throws RangeError when `value` is not such an integer (a programming error)
 */
export function formatIPv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${value} is not an IPv4 address value`);
  }
  return `${Math.floor(value / 0x1000000)}.${Math.floor(value / 0x10000) % 256}.${Math.floor(value / 0x100) % 256}.${value % 256}`;
}

/**
 * The netmask of a prefix length as an unsigned 32-bit number (`/24` → `0xffffff00`).
 * @param prefix - 0 … 32
 */
export function prefixMask(prefix: number): number {
  // JS shifts are mod 32, so /0 needs its own case.
  if (prefix <= 0) return 0;
  return (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Number of addresses in a prefix, `2^(32 − prefix)`.
 * @param prefix - 0 … 32
 */
export function prefixSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Parses an IPv4 CIDR. The address part may have host bits set (`192.168.0.1/24` is accepted and keeps
 * `address` = .1); use {@link Ipv4Cidr.network} or {@link normaliseCidr} for the masked form.
 * @param text - e.g. `172.16.3.0/24`
 * @param field - names the source of the value in the error message
 * @throws {@link InvalidCidrError} for malformed input and for IPv6
 */
export function parseCidr(text: string, field?: string): Ipv4Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidCidrError(text, field, 'the /prefix is missing; write it like 172.16.3.0/24');
  const address = tryParseIPv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !PREFIX.test(prefixText) || Number(prefixText) > 32) {
    throw new InvalidCidrError(text, field);
  }
  const prefix = Number(prefixText);
  const network = (address & prefixMask(prefix)) >>> 0;
  return { address, prefix, network, size: prefixSize(prefix) };
}

/**
 * Formats an address and prefix as `a.b.c.d/p`.
 * @param address - unsigned 32-bit address
 * @param prefix - 0 … 32
 */
export function formatCidr(address: number, prefix: number): string {
  return `${formatIPv4(address)}/${prefix}`;
}

/**
 * The masked form of a CIDR: `192.168.0.1/24` → `192.168.0.0/24`.
 * @param text - a CIDR
 * @param field - names the source of the value in the error message
 * @throws {@link InvalidCidrError}
 */
export function normaliseCidr(text: string, field?: string): string {
  const cidr = parseCidr(text, field);
  return formatCidr(cidr.network, cidr.prefix);
}

/**
 * Whether the masked network of `cidr` contains `address`.
 * @param cidr - a parsed CIDR
 * @param address - unsigned 32-bit address
 */
export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + cidr.size;
}

/**
 * Whether two CIDRs share at least one address (compared as masked networks).
 * @param a - a parsed CIDR
 * @param b - a parsed CIDR
 */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/**
 * The ordinal of `address` counted from `start`: `address − start`, valid when `0 ≤ ordinal < size`.
 * @param start - the first address (block: the address as written in `spec.cidr`; pool: the masked network)
 * @param size - number of ordinals
 * @param address - the address to locate
 * @returns the ordinal, or `undefined` when the address is outside `[start, start + size)`
 */
export function ordinalFrom(start: number, size: number, address: number): number | undefined {
  const ordinal = address - start;
  return ordinal >= 0 && ordinal < size ? ordinal : undefined;
}

/**
 * The pool ordinal: `address − masked network` of the pool CIDR.
 * @param poolCidr - the pool's CIDR text
 * @param address - dotted-decimal address
 * @throws {@link AddressOutOfRangeError} when the address is outside the pool
 * @throws {@link InvalidCidrError} / {@link InvalidAddressError} for malformed input
 */
export function poolOrdinal(poolCidr: string, address: string): number {
  const cidr = parseCidr(poolCidr, 'pool CIDR');
  const ordinal = ordinalFrom(cidr.network, cidr.size, parseIPv4(address, 'address'));
  if (ordinal === undefined) throw new AddressOutOfRangeError(address, poolCidr);
  return ordinal;
}
