/**
 * Plans the VPC from the options: validates everything that can be checked before the kernel is touched
 * and derives gateways, bridge names and the nodes' management addresses.
 */

import type { TunnelType, VxnetInput } from '@hostnic/iaas-client/fake';
import { firstHost, formatIpv4, formatPrefix, lastHost, parsePrefix } from './ipv4.ts';
import type { SandboxNames } from './names.ts';
import type { SandboxVxnet, VxnetOption } from './types.ts';

export const DEFAULT_VXNETS: readonly VxnetOption[] = [
  { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
  { id: 'vxnet-pods001', cidr: '172.16.3.0/24' },
  { id: 'vxnet-pods002', cidr: '172.16.4.0/24', tunnelType: 'vlan' },
];

const VXNET_ID = /^vxnet-[a-z0-9]+$/;

/** A vxnet to build, with the numbers the node plan needs. */
export interface VxnetPlan extends SandboxVxnet {
  readonly network: number;
  readonly firstHost: number;
  readonly lastHost: number;
}

function overlaps(a: VxnetPlan, b: VxnetPlan): boolean {
  return a.network <= b.lastHost + 1 && b.network <= a.lastHost + 1;
}

/** @throws Error naming the first problem. */
export function planVxnets(options: readonly VxnetOption[], names: SandboxNames): VxnetPlan[] {
  const plans: VxnetPlan[] = [];
  for (const [index, option] of options.entries()) {
    if (!VXNET_ID.test(option.id)) throw new Error(`vxnets[${index}]: invalid vxnet id "${option.id}"`);
    if (plans.some((p) => p.id === option.id)) throw new Error(`vxnets[${index}]: duplicate vxnet id ${option.id}`);
    let prefix;
    try {
      prefix = parsePrefix(option.cidr);
    } catch (err) {
      throw new Error(`vxnets[${index}] (${option.id}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const tunnelType: TunnelType = option.tunnelType ?? 'vxlan';
    const plan: VxnetPlan = {
      id: option.id,
      cidr: formatPrefix(prefix),
      prefixLength: prefix.prefixLength,
      gateway: formatIpv4(firstHost(prefix)),
      bridge: names.bridge(index),
      tunnelType,
      management: option.management === true,
      network: prefix.network,
      firstHost: firstHost(prefix),
      lastHost: lastHost(prefix),
    };
    // The vpc namespace routes between the bridges by their connected routes: overlapping networks would
    // make that ambiguous.
    const clash = plans.find((p) => overlaps(p, plan));
    if (clash) throw new Error(`vxnets[${index}] (${option.id}): ${plan.cidr} overlaps ${clash.id} (${clash.cidr})`);
    plans.push(plan);
  }
  const management = plans.filter((p) => p.management);
  if (management.length !== 1) throw new Error(`exactly one vxnet must be the management vxnet, found ${management.length}`);
  return plans;
}

export function managementOf(plans: readonly VxnetPlan[]): VxnetPlan {
  const plan = plans.find((p) => p.management);
  if (!plan) throw new Error('no management vxnet');
  return plan;
}

/**
 * Management addresses of nodes 1..n, from the top of the vxnet down: where the fake puts instances
 * without an address, clear of ranges that tests carve from the bottom of the DHCP range.
 * @throws Error when the vxnet is too small.
 */
export function nodeAddresses(vxnet: VxnetPlan, count: number): string[] {
  const available = vxnet.lastHost - vxnet.firstHost;
  if (count > available) throw new Error(`${count} nodes do not fit in ${vxnet.id} (${vxnet.cidr}): room for ${available}`);
  return Array.from({ length: count }, (_, i) => formatIpv4(vxnet.lastHost - i));
}

/** The fake QingCloud's record of a vxnet: in the VPC, gateway .1, DHCP from .2 to the last host. */
export function fakeVxnetInput(plan: VxnetPlan): VxnetInput {
  return {
    vxnet_id: plan.id,
    vxnet_name: plan.id,
    tunnel_type: plan.tunnelType,
    router: {
      manager_ip: plan.gateway,
      ip_network: plan.cidr,
      dyn_ip_start: formatIpv4(Math.min(plan.firstHost + 1, plan.lastHost)),
      dyn_ip_end: formatIpv4(plan.lastHost),
    },
  };
}

/** The public view of a plan, without the arithmetic. */
export function publicVxnet(plan: VxnetPlan): SandboxVxnet {
  return {
    id: plan.id,
    cidr: plan.cidr,
    prefixLength: plan.prefixLength,
    gateway: plan.gateway,
    bridge: plan.bridge,
    tunnelType: plan.tunnelType,
    management: plan.management,
  };
}
