/**
 * The host-side veth name [compat]: prefix + the first 11 hex characters of SHA-1 over `<namespace>.<pod>`
 * (Calico's workload interface naming; the bundled Calico sets FELIX_INTERFACEPREFIX=vnic). The plugin
 * needs it only when it cleans up by itself (agent down); the agent builds the veth.
 */

import { createHash } from 'node:crypto';

/** `default`, `nginx` → `vnicc440f455693`. */
export function hostVethName(namespace: string, pod: string, prefix = 'vnic'): string {
  const hash = createHash('sha1').update(`${namespace}.${pod}`, 'utf8').digest('hex');
  return `${prefix}${hash.slice(0, 11)}`;
}
