/**
 * Where the metrics port listens by default: the node's own address, not every address (the agent runs in
 * the host network, and its pods' NICs and veths must not reach it). `NODE_IP` (the DaemonSet sets it from
 * `status.hostIP`) wins; else the first IPv4 address of an interface that is not ours or loopback.
 */

import type { NetworkInterfaceInfo } from 'node:os';

/** Links the agent makes (NICs, bridges, pod veths): never the node's address. */
const OWN_LINK = /^(hostnic_|br_|vnic)/;

export function defaultMetricsHost(
  env: Readonly<Record<string, string | undefined>>,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string | undefined {
  const fromEnv = env['NODE_IP'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  for (const name of Object.keys(interfaces).sort()) {
    if (OWN_LINK.test(name)) continue;
    const address = interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal);
    if (address !== undefined) return address.address;
  }
  return undefined;
}
