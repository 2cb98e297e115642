import { describeAccessKeys } from './access-keys.ts';
import { describeClusterNodes, describeClusters } from './clusters.ts';
import type { ActionHandler } from './context.ts';
import { describeJobs } from './jobs.ts';
import { attachNics, createNics, deleteNics, describeNics, detachNics } from './nics.ts';
import {
  addSecurityGroupRules,
  applySecurityGroup,
  deleteSecurityGroupRules,
  describeSecurityGroupRules,
} from './security-groups.ts';
import { attachTags } from './tags.ts';
import { allocateVips, describeVips, releaseVips } from './vips.ts';
import { describeVxnets } from './vxnets.ts';

/** The 18 actions hostnic's wrapper wires , by wire name. */
export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  DescribeAccessKeys: describeAccessKeys,
  DescribeNics: describeNics,
  CreateNics: createNics,
  AttachNics: attachNics,
  DetachNics: detachNics,
  DeleteNics: deleteNics,
  DescribeJobs: describeJobs,
  DescribeVxnets: describeVxnets,
  AttachTags: attachTags,
  AllocateVips: allocateVips,
  DescribeVips: describeVips,
  ReleaseVips: releaseVips,
  AddSecurityGroupRules: addSecurityGroupRules,
  ApplySecurityGroup: applySecurityGroup,
  DescribeSecurityGroupRules: describeSecurityGroupRules,
  DeleteSecurityGroupRules: deleteSecurityGroupRules,
  DescribeClusters: describeClusters,
  DescribeClusterNodes: describeClusterNodes,
};

/** Actions that need no `zone` parameter. */
export const ZONELESS_ACTIONS: ReadonlySet<string> = new Set(['DescribeAccessKeys']);

export function findAction(name: string): ActionHandler | undefined {
  return Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
}
