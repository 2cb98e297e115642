/**
 * Named namespaces the sandbox owns. Every kernel call of the sandbox goes through a Netns made here: the
 * library's default is the calling process's namespace, which on a shared machine is the root one, and
 * the sandbox must never change that.
 */

import type { Netns } from '@hostnic/netlink';
import { applyBatchOrThrow, createNamedNetns, deleteNamedNetns, linkSetOp } from '@hostnic/netlink';
import type { Teardown } from './teardown.ts';

/** Throws unless `ns` is a namespace given by path (never the caller's own). */
export function requireOwnNetns(ns: Netns): Netns {
  if (ns.kind !== 'path') throw new Error("sandbox: refusing to act on the calling process's network namespace");
  return ns;
}

/**
 * Creates named namespace `name` with loopback up and records its removal. An existing namespace of that
 * name is not ours: the error propagates and nothing is recorded.
 */
export async function createOwnedNetns(name: string, teardown: Teardown): Promise<Netns> {
  const undo = `delete netns ${name}`;
  teardown.throwIfClosed(undo);
  const ns = await createNamedNetns(name);
  teardown.push(undo, () => deleteNamedNetns(name));
  await applyBatchOrThrow([linkSetOp('lo', { up: true })], { netns: requireOwnNetns(ns) });
  return ns;
}
