/**
 * The host-side veth name of a pod [compat]: prefix + the first 11 hex characters of SHA-1 over
 * `<namespace>.<pod>` (Calico's workload interface naming; the bundled Calico sets FELIX_INTERFACEPREFIX to
 * the prefix). Apart from names.ts because it needs node:crypto.
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import { DEFAULT_VETH_PREFIX, validateVethPrefix } from './names.ts';

/** `default`, `nginx` → `vnicc440f455693`. */
export function hostVethName(namespace: string, pod: string, prefix: string = DEFAULT_VETH_PREFIX): string {
  validateVethPrefix(prefix);
  const hash = createHash('sha1').update(`${namespace}.${pod}`, 'utf8').digest('hex');
  return `${prefix}${hash.slice(0, 11)}`;
}
