/**
 * Names of everything the sandbox creates. Tests run in parallel on a shared machine, so every namespace,
 * link and directory carries the instance's prefix; a crashed run's leftovers are found by it, too.
 */

import { randomBytes } from 'node:crypto';

/**
 * Letters and digits, at most 8: the longest link name, `<prefix>-v<5 digits>`, must fit the kernel's
 * 15-byte limit, and "-" is kept as the separator so that prefix `ab` never matches `abc-...`.
 */
const PREFIX = /^[a-z][a-z0-9]{1,7}$/;

/** The largest NIC veth counter that keeps link names within 15 bytes for any valid prefix. */
export const MAX_NIC_COUNTER = 99_999;

export function validatePrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new Error(`invalid sandbox prefix "${prefix}": use 2 to 8 lower-case letters and digits, starting with a letter`);
  }
  return prefix;
}

/** A fresh prefix such as `hs3f9a`. */
export function randomPrefix(): string {
  return `hs${randomBytes(2).toString('hex')}`;
}

/** An instance id in QingCloud's shape, `i-` and 8 characters. */
export function randomInstanceId(): string {
  return `i-${randomBytes(4).toString('hex')}`;
}

/** Every name the sandbox of `prefix` uses. */
export interface SandboxNames {
  readonly prefix: string;
  /** What namespaces, directories and sweeping match: `<prefix>-`. */
  readonly stem: string;
  readonly vpcNetns: string;
  readonly directory: string;
  nodeName(index: number): string;
  nodeNetns(index: number): string;
  podNetns(nodeName: string, podName: string): string;
  bridge(vxnetIndex: number): string;
  /** vpc end of a node's eth0 veth. */
  managementPort(nodeIndex: number): string;
  /** vpc end of an attached NIC's veth. */
  nicVpcEnd(counter: number): string;
  /** Node end of an attached NIC's veth, until the agent renames it. */
  nicNodeEnd(counter: number): string;
}

export function sandboxNames(prefix: string): SandboxNames {
  validatePrefix(prefix);
  const stem = `${prefix}-`;
  return {
    prefix,
    stem,
    vpcNetns: `${stem}vpc`,
    directory: `${stem}sandbox`,
    nodeName: (index) => `node-${index}`,
    nodeNetns: (index) => `${stem}node-${index}`,
    podNetns: (nodeName, podName) => `${stem}${nodeName}-${podName}`,
    bridge: (index) => `${stem}b${index}`,
    managementPort: (index) => `${stem}e${index}`,
    nicVpcEnd: (counter) => `${stem}v${counter}`,
    nicNodeEnd: (counter) => `${stem}n${counter}`,
  };
}
