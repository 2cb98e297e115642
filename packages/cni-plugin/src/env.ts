/**
 * The CNI environment variables, checked in the order of the reference skel: required
 * variables first, then (after stdin is read) the container id and the interface name.
 */

import { InvalidEnvironmentError, UnknownContainerError } from './errors.ts';

export const VERBS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type Verb = (typeof VERBS)[number];

export interface CniEnv {
  verb: Verb;
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS, unparsed. */
  args: string;
  /** CNI_PATH: optional since CNI 1.0; hostnic runs no delegate, so it is only logged. */
  path: string;
}

/** What the environment asks for: a verb to run, or the about string (no CNI_COMMAND at all). */
export type EnvRequest = { kind: 'about' } | { kind: 'call'; env: CniEnv };

type Source = Readonly<Record<string, string | undefined>>;

/** Listed in the skel's order, which the "missing" message keeps. */
type Required = 'CNI_COMMAND' | 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME';
const REQUIRED: Record<Verb, readonly Required[]> = {
  ADD: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  // DEL must work after the netns is gone, so the runtime may leave CNI_NETNS empty.
  DEL: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: ['CNI_COMMAND'],
  GC: ['CNI_COMMAND'],
  STATUS: ['CNI_COMMAND'],
};

const HOW_TO_SET: Record<Required, string> = {
  CNI_COMMAND: 'CNI_COMMAND=ADD|DEL|CHECK|VERSION|GC|STATUS',
  CNI_CONTAINERID: 'CNI_CONTAINERID=<sandbox id>',
  CNI_NETNS: 'CNI_NETNS=/var/run/netns/<name>',
  CNI_IFNAME: 'CNI_IFNAME=eth0',
};

function isVerb(v: string): v is Verb {
  return (VERBS as readonly string[]).includes(v);
}

/** Step 1: the variables each verb needs. */
export function readEnv(source: Source): EnvRequest {
  const command = source['CNI_COMMAND'] ?? '';
  if (command === '') return { kind: 'about' };
  if (!isVerb(command)) {
    throw new InvalidEnvironmentError(
      `unknown CNI_COMMAND: ${command}`,
      `hostnic understands ${VERBS.join(', ')}`,
    );
  }
  const missing = REQUIRED[command].filter((name) => (source[name] ?? '') === '');
  if (missing.length > 0) {
    throw new InvalidEnvironmentError(
      `required env variables [${missing.join(',')}] missing`,
      `the container runtime sets them for ${command}; when running the plugin by hand, export ${missing.map((m) => HOW_TO_SET[m]).join(' ')}`,
    );
  }
  return {
    kind: 'call',
    env: {
      verb: command,
      containerId: source['CNI_CONTAINERID'] ?? '',
      netns: source['CNI_NETNS'] ?? '',
      ifName: source['CNI_IFNAME'] ?? '',
      args: source['CNI_ARGS'] ?? '',
      path: source['CNI_PATH'] ?? '',
    },
  };
}

/** The pattern the CNI spec gives for network names and container ids. */
export const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Step 3b: the container id of verbs that are about one attachment. */
export function checkContainerId(id: string): void {
  if (id === '') throw new UnknownContainerError('missing containerID', 'set CNI_CONTAINERID to the sandbox id');
  if (!ID_PATTERN.test(id)) {
    throw new InvalidEnvironmentError(
      'invalid characters in containerID',
      `${id} (CNI_CONTAINERID must match ${ID_PATTERN.source})`,
    );
  }
}

/** Step 3c: the kernel's rules for interface names (dev_valid_name), with the skel's messages. */
export function checkIfName(name: string, variable = 'CNI_IFNAME'): void {
  if (name === '') throw new InvalidEnvironmentError('interface name is empty', `set ${variable}, e.g. eth0`);
  if (Buffer.byteLength(name, 'utf8') > 15) {
    throw new InvalidEnvironmentError(
      'interface name is too long',
      `interface name should be less than 16 characters (${variable}=${name})`,
    );
  }
  if (name === '.' || name === '..') throw new InvalidEnvironmentError('interface name is . or ..', `${variable}=${name}`);
  if (/[/:\s]/.test(name)) {
    throw new InvalidEnvironmentError('interface name contains / or : or whitespace characters', `${variable}=${JSON.stringify(name)}`);
  }
}

/** Steps 3b and 3c for the verbs that carry an attachment. */
export function checkAttachmentEnv(env: CniEnv): void {
  if (env.verb !== 'ADD' && env.verb !== 'DEL' && env.verb !== 'CHECK') return;
  checkContainerId(env.containerId);
  checkIfName(env.ifName);
}
