/**
 * One node: a namespace whose eth0 is a veth into the management vxnet's bridge, its directory tree, and
 * its instance in the fake QingCloud (primary NIC = eth0's MAC and address), so that the agent can create
 * and attach NICs for it.
 */

import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import type { Netns } from '@hostnic/netlink';
import { addrReplaceOp, applyBatchOrThrow, deleteLink, linkSetOp, randomMac, routeReplaceOp, vethAddOp } from '@hostnic/netlink';
import { createNodeDirs, nodePaths } from './node-dirs.ts';
import type { SandboxNames } from './names.ts';
import { createOwnedNetns, requireOwnNetns } from './owned-netns.ts';
import type { Teardown } from './teardown.ts';
import type { SandboxNode } from './types.ts';
import type { VxnetPlan } from './vxnets.ts';

export interface NodeContext {
  readonly names: SandboxNames;
  readonly vpc: Netns;
  readonly management: VxnetPlan;
  readonly directory: string;
  readonly qingcloud: FakeQingCloud;
  readonly teardown: Teardown;
}

export interface NodePlan {
  readonly index: number;
  readonly instanceId: string;
  readonly ip: string;
}

export async function createNode(ctx: NodeContext, plan: NodePlan): Promise<SandboxNode> {
  const { names, vpc, management, teardown } = ctx;
  const name = names.nodeName(plan.index);
  const netnsName = names.nodeNetns(plan.index);
  const netns = await createOwnedNetns(netnsName, teardown);
  const mac = randomMac();
  const port = names.managementPort(plan.index);
  // Deleting the vpc end takes eth0 with it at once; the namespace's own removal would do so only when the
  // kernel gets round to destroying it.
  teardown.push(`delete ${port} (eth0 of ${name})`, () => deleteLink(port, { netns: vpc }));
  await applyBatchOrThrow(
    [
      vethAddOp({ name: port, peerName: 'eth0', peerMac: mac, peerNetns: netns }),
      linkSetOp(port, { master: management.bridge, up: true }),
    ],
    { netns: requireOwnNetns(vpc) },
  );
  await applyBatchOrThrow(
    [
      linkSetOp('eth0', { up: true }),
      addrReplaceOp({ cidr: `${plan.ip}/${management.prefixLength}`, dev: 'eth0' }),
      routeReplaceOp({ dst: 'default', gateway: management.gateway, dev: 'eth0' }),
    ],
    { netns: requireOwnNetns(netns) },
  );
  const paths = nodePaths(ctx.directory, name);
  await createNodeDirs(paths, plan.instanceId);
  ctx.qingcloud.addInstance({
    instance_id: plan.instanceId,
    instance_name: name,
    vxnet_id: management.id,
    private_ip: plan.ip,
    primary_nic_id: mac,
  });
  return {
    name,
    index: plan.index,
    netnsName,
    netns,
    instanceId: plan.instanceId,
    mac,
    ip: plan.ip,
    cidr: `${plan.ip}/${management.prefixLength}`,
    gateway: management.gateway,
    paths,
  };
}
