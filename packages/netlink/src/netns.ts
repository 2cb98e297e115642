/**
 * Network namespaces: which one a command runs in, whether a path still is one, and throwaway named ones.
 *
 * Commands for a namespace given by path run as `nsenter --net=<path> -- <cmd>`: `ip -n` only accepts
 * names under /var/run/netns, while CNI_NETNS may be any path (e.g. /proc/<pid>/ns/net).
 *
 * @packageDocumentation
 */

import { statfs, stat } from 'node:fs/promises';
import {
  CommandError,
  InvalidArgumentError,
  NetnsGoneError,
  commandErrorFor,
  errnoOf,
} from './errors.ts';
import type { ExecOptions, ExecResult } from './exec.ts';
import { run } from './exec.ts';

/** Where named namespaces live (`ip netns add NAME` creates /var/run/netns/NAME). */
export const NETNS_RUN_DIR = '/var/run/netns';

/**
 * A network namespace: the one of the calling process, or one given by path (named ones are paths under
 * {@link NETNS_RUN_DIR} and remember their name).
 */
export type Netns =
  | { readonly kind: 'current' }
  | { readonly kind: 'path'; readonly path: string; readonly name?: string | undefined };

/** The namespace of the calling process (for the agent, the node's). */
export const CURRENT_NETNS: Netns = Object.freeze({ kind: 'current' });

const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Checks a namespace name as `ip netns` would store it: one path component of safe characters. */
export function validateNetnsName(name: string): void {
  if (!NETNS_NAME.test(name) || name.length > 255) {
    throw new InvalidArgumentError('netns name', name, 'use letters, digits, "_", "." and "-" only');
  }
}

/** The named namespace NAME, i.e. /var/run/netns/NAME. Does not check that it exists. */
export function namedNetns(name: string): Netns {
  validateNetnsName(name);
  return Object.freeze({ kind: 'path', path: `${NETNS_RUN_DIR}/${name}`, name });
}

/** The namespace at `path` (a bind mount such as /var/run/netns/cni-..., or /proc/PID/ns/net). */
export function netnsAtPath(path: string): Netns {
  if (!path.startsWith('/')) throw new InvalidArgumentError('netns path', path, 'must be absolute');
  if (path.includes('\0') || path.includes('\n')) {
    throw new InvalidArgumentError('netns path', path, 'contains a NUL or newline');
  }
  return Object.freeze({ kind: 'path', path });
}

/** Human-readable name for messages. */
export function describeNetns(ns: Netns): string {
  return ns.kind === 'current' ? 'the current netns' : `netns ${ns.path}`;
}

/** The argv that runs `argv` inside `ns`. */
export function argvInNetns(ns: Netns, argv: readonly string[]): string[] {
  if (ns.kind === 'current') return [...argv];
  return ['nsenter', `--net=${ns.path}`, '--', ...argv];
}

/** statfs(2) magic of nsfs, where namespace files live. */
const NSFS_MAGIC = 0x6e736673;
/** statfs(2) magic of procfs: namespace files were on procfs before Linux 3.19. */
const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * Whether `path` is a live namespace file. A vanished path, a leftover plain file (the bind mount is gone
 * but the mount point file stayed) or a directory counts as gone. Answered by statfs(2), without spawning.
 */
export async function isLiveNetnsPath(path: string): Promise<boolean> {
  try {
    const fs = await statfs(path);
    if (fs.type === NSFS_MAGIC) return true;
    if (fs.type === PROC_SUPER_MAGIC) return !(await stat(path)).isDirectory() && /\/ns\/net$/.test(path);
    return false;
  } catch {
    return false;
  }
}

/** Whether `ns` is live; the current namespace always is. */
export async function isLiveNetns(ns: Netns): Promise<boolean> {
  return ns.kind === 'current' ? true : isLiveNetnsPath(ns.path);
}

/** Throws {@link NetnsGoneError} unless `ns` is live. */
export async function assertLiveNetns(ns: Netns): Promise<void> {
  if (ns.kind === 'path' && !(await isLiveNetnsPath(ns.path))) {
    throw new NetnsGoneError(ns.path, { argv: [], kernelMessage: 'not a live network namespace (statfs)' });
  }
}

/**
 * Opens a namespace given as a path or a name, checking that it is live.
 * @throws NetnsGoneError when it is not.
 */
export async function openNetns(pathOrName: string): Promise<Netns> {
  const ns = pathOrName.startsWith('/') ? netnsAtPath(pathOrName) : namedNetns(pathOrName);
  await assertLiveNetns(ns);
  return ns;
}

/**
 * The error to report when `nsenter` itself failed (before it could run the command), or undefined when the
 * failure, if any, came from the command. nsenter reports every problem of its own with an `nsenter:`
 * prefix and exit status 1; a missing path (ENOENT) and a file that is not a namespace (EINVAL on setns)
 * both mean the namespace is gone.
 */
export function nsenterFailure(ns: Netns, result: ExecResult): CommandError | undefined {
  if (ns.kind !== 'path' || result.code === 0) return undefined;
  const first = result.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  if (!first.startsWith('nsenter: ')) return undefined;
  const errno = errnoOf(first);
  const details = { argv: result.argv, kernelMessage: first, errno, exitCode: result.code, stderr: result.stderr };
  if (errno === 'ENOENT' || errno === 'EINVAL' || errno === 'EBADF') return new NetnsGoneError(ns.path, details);
  return commandErrorFor(`cannot enter ${describeNetns(ns)}`, details);
}

/** Options for creating a throwaway named namespace. */
export interface CreateNetnsOptions extends ExecOptions {
  /** Bring `lo` up inside it. Default false (like `ip netns add`). */
  readonly loopbackUp?: boolean | undefined;
}

/**
 * Creates the named namespace NAME with `ip netns add`.
 * @throws ExistsError when it already exists.
 */
export async function createNamedNetns(name: string, options?: CreateNetnsOptions): Promise<Netns> {
  const ns = namedNetns(name);
  const argv = ['ip', 'netns', 'add', name];
  const r = await run({ argv }, options);
  if (r.code !== 0) {
    const msg = r.stderr.trim();
    throw commandErrorFor(`cannot create netns ${name}`, {
      argv,
      kernelMessage: msg,
      errno: errnoOf(msg),
      exitCode: r.code,
      stderr: r.stderr,
    });
  }
  if (options?.loopbackUp) {
    const up = argvInNetns(ns, ['ip', 'link', 'set', 'lo', 'up']);
    const u = await run({ argv: up }, options);
    if (u.code !== 0) {
      throw new CommandError(`cannot bring lo up in netns ${name}`, {
        argv: up,
        kernelMessage: u.stderr.trim(),
        exitCode: u.code,
      });
    }
  }
  return ns;
}

/** Deletes the named namespace NAME (`ip netns del`); a missing one counts as deleted. */
export async function deleteNamedNetns(name: string, options?: ExecOptions): Promise<void> {
  validateNetnsName(name);
  const argv = ['ip', 'netns', 'del', name];
  const r = await run({ argv }, options);
  if (r.code === 0) return;
  const msg = r.stderr.trim();
  const errno = errnoOf(msg);
  if (errno === 'ENOENT') return;
  throw commandErrorFor(`cannot delete netns ${name}`, {
    argv,
    kernelMessage: msg,
    errno,
    exitCode: r.code,
    stderr: r.stderr,
  });
}

/** Names of the named namespaces (`ip netns list`). */
export async function listNamedNetns(options?: ExecOptions): Promise<string[]> {
  const argv = ['ip', '-json', 'netns', 'list'];
  const r = await run({ argv }, options);
  if (r.code !== 0) {
    throw new CommandError('cannot list netns', { argv, kernelMessage: r.stderr.trim(), exitCode: r.code });
  }
  const text = r.stdout.trim();
  if (text === '') return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  const names: string[] = [];
  for (const entry of parsed as unknown[]) {
    if (typeof entry === 'object' && entry !== null && 'name' in entry && typeof entry.name === 'string') {
      names.push(entry.name);
    }
  }
  return names;
}
