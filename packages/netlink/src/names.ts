/**
 * Names hostnic gives to kernel objects [compat: the original's names, relied on by Calico and operators].
 *
 * @packageDocumentation
 */

import { createHash, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors.ts';

/** Whether `text` contains an ASCII control character (which no name or batch token may carry). */
export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Default host veth prefix; Calico's FELIX_INTERFACEPREFIX is set to it. */
export const DEFAULT_VETH_PREFIX = 'vnic';
/** Longest prefix that keeps prefix + 11 hex characters within IFNAMSIZ-1 (15). */
export const MAX_VETH_PREFIX_LENGTH = 4;
/** Longest interface name the kernel accepts. */
export const MAX_IFNAME_LENGTH = 15;

/**
 * Checks an interface name as the kernel does (dev_valid_name): 1-15 bytes, not `.` or `..`, no `/`, `:`
 * or whitespace. Returns the name.
 */
export function validateIfName(name: string, field = 'interface name'): string {
  if (name === '') throw new InvalidArgumentError(field, name, 'is empty');
  if (Buffer.byteLength(name) > MAX_IFNAME_LENGTH) {
    throw new InvalidArgumentError(field, name, `longer than ${MAX_IFNAME_LENGTH} bytes`);
  }
  if (name === '.' || name === '..') throw new InvalidArgumentError(field, name, 'is . or ..');
  if (/[/:\s"'\\#]/.test(name) || hasControlChar(name)) {
    throw new InvalidArgumentError(field, name, 'contains /, :, whitespace, quotes, "\\" or "#"');
  }
  return name;
}

/** Checks a veth prefix: at most 4 characters, so that the derived name fits in 15. */
export function validateVethPrefix(prefix: string): string {
  if (prefix.length > MAX_VETH_PREFIX_LENGTH) {
    throw new InvalidArgumentError('vethPrefix', prefix, `longer than ${MAX_VETH_PREFIX_LENGTH} characters`);
  }
  if (prefix !== '' && !/^[A-Za-z0-9_.-]+$/.test(prefix)) {
    throw new InvalidArgumentError('vethPrefix', prefix, 'use letters, digits, "_", "." and "-" only');
  }
  return prefix;
}

/**
 * Host-side veth name of a pod [compat]: prefix + the first 11 hex characters of SHA-1 over
 * `<namespace>.<pod>` (Calico's workload interface naming). `default.nginx` → `vnicc440f455693`.
 */
export function hostVethName(namespace: string, pod: string, prefix: string = DEFAULT_VETH_PREFIX): string {
  validateVethPrefix(prefix);
  const hash = createHash('sha1').update(`${namespace}.${pod}`, 'utf8').digest('hex');
  return `${prefix}${hash.slice(0, 11)}`;
}

/** Kernel name of a hostnic NIC [compat]: `hostnic_` + the vxnet id without `vxnet-`. */
export function nicLinkName(vxnetId: string): string {
  const id = vxnetId.startsWith('vxnet-') ? vxnetId.slice('vxnet-'.length) : vxnetId;
  if (id === '') throw new InvalidArgumentError('vxnetId', vxnetId, 'is empty');
  return validateIfName(`hostnic_${id}`, 'NIC link name');
}

/** Bridge of route table N [compat]: `br_<N>`. */
export function bridgeName(table: number): string {
  if (!Number.isInteger(table) || table < 1 || table > 0xfffffffe) {
    throw new InvalidArgumentError('route table', table, 'must be an integer table id');
  }
  return validateIfName(`br_${table}`, 'bridge name');
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
