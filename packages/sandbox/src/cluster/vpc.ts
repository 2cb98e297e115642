/**
 * The VPC router: one namespace with a bridge per vxnet, each carrying the vxnet's gateway address, and
 * IPv4 forwarding so that it routes between them like QingCloud's VPC router.
 */

import type { Netns } from '@hostnic/netlink';
import {
  addrReplaceOp,
  applyBatchOrThrow,
  bridgeAddOp,
  confSysctl,
  deleteLink,
  ipForwardSysctl,
  linkSetOp,
  randomMac,
  writeSysctls,
} from '@hostnic/netlink';
import { createOwnedNetns, requireOwnNetns } from './owned-netns.ts';
import type { Teardown } from './teardown.ts';
import type { VxnetPlan } from './vxnets.ts';

export async function createVpcNetns(name: string, teardown: Teardown): Promise<Netns> {
  const netns = await createOwnedNetns(name, teardown);
  // A new namespace inherits the machine's rp_filter, which may be strict; QingCloud's router does no
  // reverse-path check, and results must not depend on the machine the tests happen to run on.
  await writeSysctls(
    [ipForwardSysctl(1), confSysctl(4, 'all', 'rp_filter', 0), confSysctl(4, 'default', 'rp_filter', 0)],
    { netns: requireOwnNetns(netns) },
  );
  return netns;
}

/**
 * The vxnet's bridge with the gateway address. Its MAC is fixed up front: a bridge otherwise takes the
 * lowest MAC of its ports, so the gateway's MAC would change as NICs come and go and nodes' ARP caches
 * would point at a MAC the bridge no longer answers to.
 */
export async function createVxnetBridge(vpc: Netns, vxnet: VxnetPlan, teardown: Teardown): Promise<void> {
  teardown.push(`delete bridge ${vxnet.bridge} of ${vxnet.id}`, () => deleteLink(vxnet.bridge, { netns: vpc }));
  await applyBatchOrThrow(
    [
      bridgeAddOp(vxnet.bridge, { mac: randomMac() }),
      linkSetOp(vxnet.bridge, { up: true }),
      addrReplaceOp({ cidr: `${vxnet.gateway}/${vxnet.prefixLength}`, dev: vxnet.bridge }),
    ],
    { netns: requireOwnNetns(vpc) },
  );
}
