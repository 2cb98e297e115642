/**
 * From a vxnet's IaaS data to its pod range: which addresses of the vxnet pods may use.
 *
 * @packageDocumentation
 */
import { formatCidr, formatIPv4, parseCidr, tryParseIPv4 } from './address.ts';
import {
  InvalidCustomReservedCountError,
  InvalidVxnetError,
  VxnetDhcpDisabledError,
  VxnetNotInVpcError,
} from './errors.ts';

/** The IaaS facts about one vxnet that the pod range depends on (from DescribeVxNets). */
export interface VxNetIaasInfo {
  /** Vxnet ID, e.g. `vxnet-abc1234`. */
  readonly vxnetId: string;
  /** `router.ip_network`; absent when the vxnet has no VPC router. */
  readonly ipNetwork?: string | undefined;
  /** `router.manager_ip` (the gateway); absent when the vxnet has no VPC router. */
  readonly managerIp?: string | undefined;
  /** First address of the IaaS DHCP range; empty or absent when DHCP is off. */
  readonly dynIpStart?: string | undefined;
  /** Last address of the IaaS DHCP range; empty or absent when DHCP is off. */
  readonly dynIpEnd?: string | undefined;
  /** Tunnel type; anything but `vlan` is handled as VxLAN. */
  readonly tunnelType?: 'vxlan' | 'vlan' | undefined;
}

/** The pod range of a vxnet. */
export interface VxNetPodRange {
  /** Vxnet ID. */
  readonly vxnetId: string;
  /** The vxnet network, masked (e.g. `172.16.3.0/24`). */
  readonly network: string;
  /** The router manager IP. */
  readonly gateway: string;
  /** First pod address (= DHCP start). */
  readonly ipStart: string;
  /** Last pod address. */
  readonly ipEnd: string;
  /** Number of pod addresses, `ipEnd − ipStart + 1`. */
  readonly size: number;
  /** The tunnel type as handled. */
  readonly tunnelType: 'vxlan' | 'vlan';
  /** The custom reservation applied: the requested count for VLAN, always 0 for VxLAN. */
  readonly customReservedIPCount: number;
}

/** Addresses at the top of a VxLAN vxnet's DHCP range kept for the IaaS. */
export const VXLAN_TAIL_RESERVED = 12;

function isBlank(text: string | undefined): text is undefined | '' {
  return text === undefined || text === '';
}

/**
 * The pod range of a vxnet:
 * - VxLAN (tunnel type ≠ `vlan`): `[dynIpStart, dynIpEnd − 12]`; the custom count is ignored (forced to 0).
 * - VLAN: with `total = dynIpEnd − dynIpStart + 1`, `base = floor(total / 7)` and
 *   `maxCustom = total − base − 1`, the custom count must be an integer in `0 … maxCustom`;
 *   the range is `[dynIpStart, dynIpEnd − base − custom]`.
 *
 * @param info - the vxnet's IaaS data
 * @param customReservedIPCount - the VxNetPool's `spec.customReservedIPCount` (default 0)
 * @throws {@link VxnetNotInVpcError} (`vxnet <id> should bind to vpc`) when the router data is missing
 * @throws {@link VxnetDhcpDisabledError} (`vxnet <id> should open DHCP`) when the DHCP range is empty
 * @throws {@link InvalidCustomReservedCountError} when the custom count is out of range (VLAN only)
 * @throws {@link InvalidVxnetError} when addresses are malformed, outside the network, or leave no pod address
 */
export function podRangeOfVxnet(info: VxNetIaasInfo, customReservedIPCount = 0): VxNetPodRange {
  const id = info.vxnetId;
  if (isBlank(info.ipNetwork) || isBlank(info.managerIp)) throw new VxnetNotInVpcError(id);
  if (isBlank(info.dynIpStart) || isBlank(info.dynIpEnd)) throw new VxnetDhcpDisabledError(id);

  let network;
  try {
    network = parseCidr(info.ipNetwork, 'router.ip_network');
  } catch (error) {
    throw new InvalidVxnetError(id, (error as Error).message);
  }
  const gateway = tryParseIPv4(info.managerIp);
  const start = tryParseIPv4(info.dynIpStart);
  const end = tryParseIPv4(info.dynIpEnd);
  if (gateway === undefined) throw new InvalidVxnetError(id, `router.manager_ip ${info.managerIp} is not an IPv4 address`);
  if (start === undefined) throw new InvalidVxnetError(id, `dyn_ip_start ${info.dynIpStart} is not an IPv4 address`);
  if (end === undefined) throw new InvalidVxnetError(id, `dyn_ip_end ${info.dynIpEnd} is not an IPv4 address`);
  const last = network.network + network.size - 1;
  if (start < network.network || end > last || start > end) {
    throw new InvalidVxnetError(
      id,
      `DHCP range ${info.dynIpStart}-${info.dynIpEnd} is not an ascending range inside ${info.ipNetwork}`,
    );
  }

  const tunnelType = info.tunnelType === 'vlan' ? 'vlan' : 'vxlan';
  let ipEnd: number;
  let custom: number;
  if (tunnelType === 'vxlan') {
    ipEnd = end - VXLAN_TAIL_RESERVED;
    custom = 0;
    if (ipEnd < start) {
      throw new InvalidVxnetError(
        id,
        `DHCP range ${info.dynIpStart}-${info.dynIpEnd} leaves no pod address after keeping the last ` +
          `${VXLAN_TAIL_RESERVED} for the IaaS; widen the vxnet's DHCP range`,
      );
    }
  } else {
    const total = end - start + 1;
    const base = Math.floor(total / 7);
    const maxCustom = total - base - 1;
    if (!Number.isInteger(customReservedIPCount) || customReservedIPCount < 0 || customReservedIPCount > maxCustom) {
      throw new InvalidCustomReservedCountError(customReservedIPCount, maxCustom);
    }
    custom = customReservedIPCount;
    ipEnd = end - base - custom;
  }
  return {
    vxnetId: id,
    network: formatCidr(network.network, network.prefix),
    gateway: formatIPv4(gateway),
    ipStart: formatIPv4(start),
    ipEnd: formatIPv4(ipEnd),
    size: ipEnd - start + 1,
    tunnelType,
    customReservedIPCount: custom,
  };
}
