/**
 * Pod namespaces: named, unique per sandbox, and removed by the sandbox's close() if the test did not
 * remove them first.
 */

import { deleteNamedNetns } from '@hostnic/netlink';
import type { SandboxNames } from './names.ts';
import { createOwnedNetns } from './owned-netns.ts';
import type { Teardown } from './teardown.ts';
import type { PodNamespace } from './types.ts';

const POD_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export async function createPodNetns(names: SandboxNames, node: string, pod: string, teardown: Teardown): Promise<PodNamespace> {
  if (!POD_NAME.test(pod)) throw new Error(`invalid pod name "${pod}": use lower-case letters, digits, "." and "-"`);
  const name = names.podNetns(node, pod);
  const netns = await createOwnedNetns(name, teardown);
  if (netns.kind !== 'path') throw new Error(`netns ${name} has no path`);
  return {
    node,
    pod,
    name,
    path: netns.path,
    netns,
    remove: () => deleteNamedNetns(name),
  };
}
