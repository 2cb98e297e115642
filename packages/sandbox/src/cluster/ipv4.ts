/**
 * The sandbox's rules for vxnet prefixes, on top of @hostnic/ipam's address arithmetic.
 */
import { formatIPv4, parseCidr, tryParseIPv4 } from '@hostnic/ipam';

/** A parsed IPv4 prefix: the network address as an unsigned 32-bit number and its length. */
export interface Ipv4Prefix {
  readonly network: number;
  readonly prefixLength: number;
}

export const parseIpv4 = tryParseIPv4;
export const formatIpv4 = formatIPv4;

/**
 * Parses `a.b.c.d/n`. Host bits must be zero (a typo such as 172.16.3.1/24 is more likely a mistake than a
 * wish), and the prefix must leave room for a gateway and at least one more host.
 * @throws Error with the offending text.
 */
export function parsePrefix(text: string): Ipv4Prefix {
  let cidr;
  try {
    cidr = parseCidr(text);
  } catch {
    cidr = undefined;
  }
  if (cidr === undefined || !(cidr.prefix >= 1 && cidr.prefix <= 30)) {
    throw new Error(`invalid IPv4 CIDR "${text}": expected a.b.c.d/n with n from 1 to 30`);
  }
  if (cidr.address !== cidr.network) throw new Error(`invalid IPv4 CIDR "${text}": host bits are set`);
  return { network: cidr.network, prefixLength: cidr.prefix };
}

export function formatPrefix(prefix: Ipv4Prefix): string {
  return `${formatIpv4(prefix.network)}/${prefix.prefixLength}`;
}

/** The first usable host (network + 1). */
export function firstHost(prefix: Ipv4Prefix): number {
  return prefix.network + 1;
}

/** The last usable host (broadcast - 1). */
export function lastHost(prefix: Ipv4Prefix): number {
  return prefix.network + 2 ** (32 - prefix.prefixLength) - 2;
}
