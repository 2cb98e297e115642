/**
 * Where a named sandbox keeps its state: `<root>/<name>/` (default root /run/hostnic-sandbox, so that a
 * reboot, which takes the namespaces away, takes the state too). Everything the sandbox writes is under it:
 * the stack's files, the netns cluster's directory, the logs and the record of the pods added by `pod add`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_STATE_ROOT = '/run/hostnic-sandbox';
/** Overrides the state root, for tests that must not meet a user's sandboxes. */
export const STATE_ROOT_ENV = 'HOSTNIC_SANDBOX_DIR';

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export class SandboxUsageError extends Error {
  override readonly name = 'SandboxUsageError';
}

export function validateName(name: string): string {
  if (!NAME.test(name)) {
    throw new SandboxUsageError(`invalid sandbox name "${name}": use 1 to 32 lower-case letters, digits and "-" (not at either end)`);
  }
  return name;
}

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env[STATE_ROOT_ENV] ?? DEFAULT_STATE_ROOT;
}

/** The prefix of every namespace and link of the sandbox: derived from the name, so `down` finds them. */
export function prefixOf(name: string): string {
  return `hsb${createHash('sha1').update(name).digest('hex').slice(0, 5)}`;
}

export interface SandboxDirs {
  readonly name: string;
  readonly prefix: string;
  readonly root: string;
  readonly stackDir: string;
  readonly logDir: string;
  readonly podsDir: string;
  readonly stateFile: string;
}

export function sandboxDirs(name: string, root = stateRoot()): SandboxDirs {
  const dir = join(root, validateName(name));
  return {
    name,
    prefix: prefixOf(name),
    root: dir,
    stackDir: join(dir, 'stack'),
    logDir: join(dir, 'logs'),
    podsDir: join(dir, 'pods'),
    stateFile: join(dir, 'state.json'),
  };
}

/** What `up` prints per node. */
export interface NodeState {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly instanceId: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  readonly socket: string;
  readonly log: string;
}

/** What `up` prints, and what the other commands read. */
export interface SandboxState {
  readonly name: string;
  readonly prefix: string;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly vpcNamespace: string;
  readonly vxnets: readonly { readonly id: string; readonly cidr: string; readonly gateway: string }[];
  readonly nodes: readonly NodeState[];
  readonly controller: { readonly log: string };
  /** The README's install steps as they ran, when started with `--install-as-documented`. */
  readonly install?: { readonly steps: readonly { readonly index: number; readonly total: number; readonly name: string; readonly command: string }[] };
  /** The process that holds the fakes (kube-apiserver, QingCloud) and started the others. */
  readonly supervisor: { readonly pid: number; readonly log: string };
}

export async function writeState(dirs: SandboxDirs, state: SandboxState): Promise<void> {
  // Readers poll for the file: it appears whole or not at all.
  const tmp = `${dirs.stateFile}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, dirs.stateFile);
}

/** @throws SandboxUsageError when the sandbox is not up */
export async function readState(dirs: SandboxDirs): Promise<SandboxState> {
  let text: string;
  try {
    text = await readFile(dirs.stateFile, 'utf8');
  } catch {
    throw new SandboxUsageError(`no sandbox "${dirs.name}" is up (no ${dirs.stateFile}): start one with \`hostnic-sandbox up --name ${dirs.name}\``);
  }
  return JSON.parse(text) as SandboxState;
}

/** Names of the sandboxes that have a directory under the root (up, starting, or left by a killed run). */
export async function listSandboxes(root = stateRoot()): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && NAME.test(e.name)).map((e) => e.name).sort();
  } catch {
    return [];
  }
}
