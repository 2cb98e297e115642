/**
 * Names hostnic gives to kernel objects [compat: the original's names, relied on by Calico and operators],
 * and the rules they follow. Also exported as `@hostnic/netlink/names`, which loads nothing but this file and
 * the error classes: the CNI plugin checks `vethPrefix` on every call and must not pay for node:crypto or
 * child_process there (the hash of a veth name is in host-veth.ts).
 *
 * @packageDocumentation
 */

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

/**
 * What is wrong with a veth prefix, or undefined when it is fine: at most 4 characters, so that the derived
 * name fits in 15, of letters, digits, `_`, `.` and `-`.
 */
export function vethPrefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_VETH_PREFIX_LENGTH) return `longer than ${MAX_VETH_PREFIX_LENGTH} characters`;
  if (!/^[A-Za-z0-9_.-]*$/.test(prefix)) return 'use letters, digits, "_", "." and "-" only';
  return undefined;
}

/** Checks a veth prefix (see {@link vethPrefixProblem}). Returns the prefix. */
export function validateVethPrefix(prefix: string): string {
  const problem = vethPrefixProblem(prefix);
  if (problem !== undefined) throw new InvalidArgumentError('vethPrefix', prefix, problem);
  return prefix;
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
