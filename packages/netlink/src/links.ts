/**
 * Links: veth pairs (ends in any namespace), bridges, enslaving, MTU, MAC, up/down, alias, rename, move,
 * delete, lookup by name or MAC. Op builders return {@link BatchOp}s for combining into one process; the
 * async functions are single-purpose conveniences with "ensure"/"remove" semantics.
 *
 * @packageDocumentation
 */

import { checkMac, sameMac } from './addr-util.ts';
import type { BatchOp, BatchOptions } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import { ExistsError, InvalidArgumentError, NotFoundError } from './errors.ts';
import { validateIfName } from './names.ts';
import type { Netns } from './netns.ts';
import { describeNetns } from './netns.ts';
import type { ReadOptions } from './snapshot.ts';
import { readLinks } from './snapshot.ts';
import type { Link } from './types.ts';

/**
 * How `ip` names a target namespace in `netns <x>`: the current one by the calling process's PID (the
 * command itself may run elsewhere through nsenter, but shares our PID namespace), others by path.
 */
export function netnsTarget(ns: Netns): string {
  return ns.kind === 'current' ? String(process.pid) : ns.path;
}

function checkMtu(mtu: number): string {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError('mtu', mtu, 'must be 68..65535');
  return String(mtu);
}

/** A veth pair to create. */
export interface VethSpec {
  /** Name of the end created in the namespace the batch runs in. */
  readonly name: string;
  /** Name of the other end. */
  readonly peerName: string;
  /** MTU of both ends. */
  readonly mtu?: number | undefined;
  readonly mac?: string | undefined;
  readonly peerMac?: string | undefined;
  /** Create the peer directly in this namespace (default: alongside `name`). */
  readonly peerNetns?: Netns | undefined;
}

/** `link add <name> [mtu] [address] type veth peer name <peer> [mtu] [address] [netns]`. */
export function vethAddOp(spec: VethSpec): BatchOp {
  const mtu = spec.mtu === undefined ? [] : ['mtu', checkMtu(spec.mtu)];
  const args = ['link', 'add', validateIfName(spec.name), ...mtu];
  if (spec.mac !== undefined) args.push('address', checkMac('mac', spec.mac));
  args.push('type', 'veth', 'peer', 'name', validateIfName(spec.peerName, 'peer name'), ...mtu);
  if (spec.peerMac !== undefined) args.push('address', checkMac('peerMac', spec.peerMac));
  if (spec.peerNetns !== undefined) args.push('netns', netnsTarget(spec.peerNetns));
  return op(args);
}

/** `link add name <name> [address] [mtu] type bridge`; an existing link of that name counts as done. */
export function bridgeAddOp(name: string, options?: { readonly mac?: string | undefined; readonly mtu?: number | undefined }): BatchOp {
  const args = ['link', 'add', 'name', validateIfName(name, 'bridge name')];
  if (options?.mac !== undefined) args.push('address', checkMac('mac', options.mac));
  if (options?.mtu !== undefined) args.push('mtu', checkMtu(options.mtu));
  args.push('type', 'bridge');
  return op(args, ['EEXIST']);
}

/** Attributes that `link set` changes. */
export interface LinkAttrs {
  readonly up?: boolean | undefined;
  readonly mtu?: number | undefined;
  readonly mac?: string | undefined;
  /** Link alias; restricted to characters that survive batch mode unquoted. */
  readonly alias?: string | undefined;
  /** Enslave to this master, or release from any master with null. */
  readonly master?: string | null | undefined;
}

/**
 * `link set dev <name> ...` with the given attributes, in one line. The master must exist when the line runs:
 * ip resolves the name itself and exits the whole batch if it cannot.
 */
export function linkSetOp(name: string, attrs: LinkAttrs): BatchOp {
  const args = ['link', 'set', 'dev', validateIfName(name)];
  if (attrs.mtu !== undefined) args.push('mtu', checkMtu(attrs.mtu));
  if (attrs.mac !== undefined) args.push('address', checkMac('mac', attrs.mac));
  if (attrs.alias !== undefined) {
    if (!/^[A-Za-z0-9_.:@+=-]{1,255}$/.test(attrs.alias)) {
      throw new InvalidArgumentError('alias', attrs.alias, 'use letters, digits and _ . : @ + = - only');
    }
    args.push('alias', attrs.alias);
  }
  if (attrs.master === null) args.push('nomaster');
  else if (attrs.master !== undefined) args.push('master', validateIfName(attrs.master, 'master'));
  if (attrs.up !== undefined) args.push(attrs.up ? 'up' : 'down');
  if (args.length === 4) throw new InvalidArgumentError('link attributes', attrs, 'nothing to set');
  return op(args);
}

/**
 * The ops that rename a link: down, rename, and up again when `wasUp` (renaming a running link fails with
 * EBUSY on older kernels).
 */
export function renameOps(from: string, to: string, wasUp: boolean): BatchOp[] {
  const ops = [
    op(['link', 'set', 'dev', validateIfName(from), 'down']),
    op(['link', 'set', 'dev', from, 'name', validateIfName(to)]),
  ];
  if (wasUp) ops.push(op(['link', 'set', 'dev', to, 'up']));
  return ops;
}

/** `link set dev <name> netns <target> [name <newName>]`: moves (and renames) in one request. */
export function moveOp(name: string, target: Netns, newName?: string): BatchOp {
  const args = ['link', 'set', 'dev', validateIfName(name), 'netns', netnsTarget(target)];
  if (newName !== undefined) args.push('name', validateIfName(newName));
  return op(args);
}

/** `link del dev <name>`; a missing link counts as deleted. */
export function linkDelOp(name: string): BatchOp {
  return op(['link', 'del', 'dev', validateIfName(name)], ['ENODEV', 'ENOENT']);
}

/** Options of the link functions. */
export type LinkOptions = ReadOptions & Pick<BatchOptions, 'netns'>;

/** The link named `name`, or undefined. */
export async function findLink(name: string, options?: LinkOptions): Promise<Link | undefined> {
  validateIfName(name);
  return (await readLinks(options)).find((l) => l.name === name);
}

/**
 * The link named `name`.
 * @throws NotFoundError when there is none.
 */
export async function getLink(name: string, options?: LinkOptions): Promise<Link> {
  const link = await findLink(name, options);
  if (!link) {
    throw new NotFoundError(`link ${name} not found in ${describeNetns(options?.netns ?? { kind: 'current' })}`, {
      argv: [],
      errno: 'ENODEV',
    });
  }
  return link;
}

/** Links whose MAC equals `mac`, compared case-insensitively (a bridge and its port may share one). */
export async function findLinksByMac(mac: string, options?: LinkOptions): Promise<Link[]> {
  checkMac('mac', mac);
  return (await readLinks(options)).filter((l) => sameMac(l.mac, mac));
}

/**
 * Makes sure a veth pair `name`/`peerName` exists (created when `name` is missing).
 * @throws ExistsError when `name` exists but is not a veth.
 */
export async function ensureVeth(spec: VethSpec, options?: LinkOptions): Promise<Link> {
  const existing = await findLink(spec.name, options);
  if (existing) {
    if (existing.kind !== 'veth') {
      throw new ExistsError(`link ${spec.name} exists and is a ${existing.kind ?? 'plain device'}, not a veth`, {
        argv: [],
        errno: 'EEXIST',
      });
    }
    return existing;
  }
  await applyBatchOrThrow([vethAddOp(spec)], options);
  return getLink(spec.name, options);
}

/**
 * Makes sure bridge `name` exists with the given MAC/MTU and, when asked, is up.
 * @throws ExistsError when a link of that name is not a bridge.
 */
export async function ensureBridge(
  name: string,
  attrs?: { readonly mac?: string | undefined; readonly mtu?: number | undefined; readonly up?: boolean | undefined },
  options?: LinkOptions,
): Promise<Link> {
  const existing = await findLink(name, options);
  const ops: BatchOp[] = [];
  if (!existing) ops.push(bridgeAddOp(name, attrs));
  else if (existing.kind !== 'bridge') {
    throw new ExistsError(`link ${name} exists and is not a bridge`, { argv: [], errno: 'EEXIST' });
  }
  const change: { mac?: string; mtu?: number; up?: boolean } = {};
  if (existing && attrs?.mac !== undefined && !sameMac(existing.mac, attrs.mac)) change.mac = attrs.mac;
  if (existing && attrs?.mtu !== undefined && existing.mtu !== attrs.mtu) change.mtu = attrs.mtu;
  if (attrs?.up !== undefined && existing?.up !== attrs.up) change.up = attrs.up;
  if (Object.keys(change).length > 0) ops.push(linkSetOp(name, change));
  await applyBatchOrThrow(ops, options);
  return getLink(name, options);
}

/** Sets attributes of link `name` (one process). */
export async function setLink(name: string, attrs: LinkAttrs, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([linkSetOp(name, attrs)], options);
}

/**
 * Renames `from` to `to`, taking it down first and restoring its up state. Idempotent: when `from` is gone
 * and `to` exists, nothing happens.
 * @throws NotFoundError when neither exists; ExistsError when both do.
 */
export async function renameLink(from: string, to: string, options?: LinkOptions): Promise<Link> {
  const links = await readLinks(options);
  const src = links.find((l) => l.name === from);
  const dst = links.find((l) => l.name === to);
  if (!src && dst) return dst;
  if (src && from === to) return src;
  if (!src) throw new NotFoundError(`link ${from} not found`, { argv: [], errno: 'ENODEV' });
  if (dst) throw new ExistsError(`cannot rename ${from}: ${to} exists`, { argv: [], errno: 'EEXIST' });
  await applyBatchOrThrow(renameOps(from, to, src.up), options);
  return getLink(to, options);
}

/** Moves link `name` into namespace `target`, optionally renaming it on the way. */
export async function moveLink(name: string, target: Netns, newName?: string, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([moveOp(name, target, newName)], options);
}

/** Deletes link `name` (for a veth, both ends go). A missing link counts as deleted. */
export async function deleteLink(name: string, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([linkDelOp(name)], options);
}
