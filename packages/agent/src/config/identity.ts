/**
 * Who this node is: the QingCloud instance id (it names every NIC the agent owns: `hostnic_<id>`) and the
 * Kubernetes node name (from the downward API).
 */

import { readFile } from 'node:fs/promises';
import { IdentityError, errnoCode } from './errors.ts';

export const DEFAULT_INSTANCE_ID_FILE = '/etc/qingcloud/instance-id';
export const NODE_NAME_ENV = ['MY_NODE_NAME', 'NODE_NAME'] as const;
/** IaaS name of every NIC this agent creates [compat]. */
export const NIC_NAME_PREFIX = 'hostnic_';

export function nicNameFor(instanceId: string): string {
  return NIC_NAME_PREFIX + instanceId;
}

/**
 * Reads the instance id, trimmed: the original used the file verbatim, so a trailing newline (which every
 * editor and `echo` adds) became part of the NIC name and of the AttachNics instance.
 */
export async function readInstanceId(file: string): Promise<string> {
  const fix =
    `mount the node's /etc/qingcloud (hostPath) into the pod, or pass --instance-id-file ` +
    `(the file holds this node's QingCloud instance id, e.g. i-abcd1234)`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
    throw new IdentityError(file, `instance id file ${file} ${what}: ${fix}`, err);
  }
  const id = text.trim();
  if (id === '') throw new IdentityError(file, `instance id file ${file} is empty: ${fix}`);
  if (/\s/.test(id)) {
    throw new IdentityError(file, `instance id file ${file} holds more than one word (${JSON.stringify(id)}): ${fix}`);
  }
  return id;
}

export interface NodeName {
  nodeName: string;
  /** The variable it came from. */
  variable: (typeof NODE_NAME_ENV)[number];
}

/** MY_NODE_NAME is what the deployed DaemonSet sets; NODE_NAME is the common spelling elsewhere. */
export function nodeNameFromEnv(env: Readonly<Record<string, string | undefined>>): NodeName {
  for (const variable of NODE_NAME_ENV) {
    const value = env[variable]?.trim();
    if (value !== undefined && value !== '') return { nodeName: value, variable };
  }
  throw new IdentityError(
    NODE_NAME_ENV.join(', '),
    `the node name is not set: set MY_NODE_NAME (or NODE_NAME) in the DaemonSet from the downward API ` +
      `(valueFrom.fieldRef.fieldPath: spec.nodeName)`,
  );
}
