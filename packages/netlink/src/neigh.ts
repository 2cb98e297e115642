/**
 * Permanent neighbour (ARP) entries.
 *
 * `neigh add` on an existing entry and `neigh del` on a missing one make ip exit in the middle of a batch
 * (no `-force` continuation), so entries are set with `neigh replace` (create or overwrite) and removed
 * with `neigh flush to <ip> dev <dev>`, which succeeds when nothing matches.
 *
 * Proxy entries (`neigh replace proxy <ip> dev <dev>`) make the kernel answer ARP requests for `<ip>` that
 * arrive on `<dev>` with `<dev>`'s MAC, provided forwarding is on and the route to `<ip>` leaves by another
 * device; a pod's proxy entry on its vxnet's bridge replaces the ebtables arpreply (docs/dataplane.md). They
 * are removed with `neigh flush proxy to <ip> [dev <dev>]` for the same reason as above.
 *
 * @packageDocumentation
 */

import { assertIPv4, checkMac, sameMac } from './addr-util.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import type { LinkOptions } from './links.ts';
import { validateIfName } from './names.ts';
import { readOne } from './batch.ts';
import type { ReadOptions } from './snapshot.ts';
import { readNeighbours } from './snapshot.ts';
import type { Neighbour } from './types.ts';

/** A permanent neighbour entry. */
export interface NeighbourSpec {
  readonly ip: string;
  readonly lladdr: string;
  readonly dev: string;
}

/** `neigh replace <ip> lladdr <mac> dev <dev> nud permanent`. */
export function neighReplaceOp(spec: NeighbourSpec): BatchOp {
  assertIPv4('neighbour ip', spec.ip);
  return op([
    'neigh',
    'replace',
    spec.ip,
    'lladdr',
    checkMac('lladdr', spec.lladdr),
    'dev',
    validateIfName(spec.dev),
    'nud',
    'permanent',
  ]);
}

/** `neigh flush to <ip> dev <dev> nud all`: removes the entry in any state; a missing device counts as done. */
export function neighFlushOp(spec: Pick<NeighbourSpec, 'ip' | 'dev'>): BatchOp {
  assertIPv4('neighbour ip', spec.ip);
  return op(['neigh', 'flush', 'to', spec.ip, 'dev', validateIfName(spec.dev), 'nud', 'all'], ['ENODEV']);
}

/** Whether `n` is the permanent entry `spec`. */
export function isPermanentNeighbour(n: Neighbour, spec: NeighbourSpec): boolean {
  return n.dst === spec.ip && n.dev === spec.dev && sameMac(n.lladdr, spec.lladdr) && n.state.includes('PERMANENT');
}

/** Makes sure the permanent entry exists with that MAC. */
export async function ensureNeighbour(spec: NeighbourSpec, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([neighReplaceOp(spec)], options);
}

/** Removes the entry (missing counts as removed). */
export async function removeNeighbour(spec: Pick<NeighbourSpec, 'ip' | 'dev'>, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([neighFlushOp(spec)], options);
}

/** The entries for `ip` on `dev`. */
export async function findNeighbours(ip: string, dev: string, options?: LinkOptions): Promise<Neighbour[]> {
  return (await readNeighbours(options)).filter((n) => n.dst === ip && n.dev === dev);
}

/** A proxy neighbour entry: ARP requests for `ip` arriving on `dev` are answered with `dev`'s MAC. */
export interface ProxyNeighbour {
  readonly ip: string;
  readonly dev: string;
}

/** `neigh replace proxy <ip> dev <dev>` (creates, or leaves an existing entry as it is). */
export function proxyNeighReplaceOp(spec: ProxyNeighbour): BatchOp {
  assertIPv4('proxy neighbour ip', spec.ip);
  return op(['neigh', 'replace', 'proxy', spec.ip, 'dev', validateIfName(spec.dev)]);
}

/**
 * `neigh flush proxy to <ip> [dev <dev>]`: removes the entry on `dev`, or on every device without it; nothing
 * to remove and a missing device count as done.
 */
export function proxyNeighFlushOp(spec: { readonly ip: string; readonly dev?: string | undefined }): BatchOp {
  assertIPv4('proxy neighbour ip', spec.ip);
  const dev = spec.dev === undefined ? [] : ['dev', validateIfName(spec.dev)];
  return op(['neigh', 'flush', 'proxy', 'to', spec.ip, ...dev], ['ENODEV']);
}

/** The IPv4 proxy entries of a namespace (`ip -json neigh show proxy`, parsed). */
export function parseProxyNeighbours(json: unknown): ProxyNeighbour[] {
  const out: ProxyNeighbour[] = [];
  if (!Array.isArray(json)) return out;
  for (const raw of json as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const { dst, dev } = raw as { dst?: unknown; dev?: unknown };
    if (typeof dst === 'string' && typeof dev === 'string' && !dst.includes(':')) out.push({ ip: dst, dev });
  }
  return out;
}

/** Reads the proxy entries (one process). */
export async function listProxyNeighbours(options?: ReadOptions): Promise<ProxyNeighbour[]> {
  return parseProxyNeighbours(await readOne(['neigh', 'show', 'proxy'], options));
}

/** Makes sure the proxy entry exists. */
export async function ensureProxyNeighbour(spec: ProxyNeighbour, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([proxyNeighReplaceOp(spec)], options);
}

/**
 * Makes sure every proxy entry exists, in one process (none for an empty list): a re-created bridge has
 * lost the entries of all its pods at once.
 */
export async function ensureProxyNeighbours(specs: readonly ProxyNeighbour[], options?: LinkOptions): Promise<void> {
  if (specs.length === 0) return;
  await applyBatchOrThrow(specs.map(proxyNeighReplaceOp), options);
}

/** Removes the proxy entry for `ip` on `dev`, or on every device when `dev` is absent (missing counts as removed). */
export async function removeProxyNeighbour(spec: { readonly ip: string; readonly dev?: string | undefined }, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([proxyNeighFlushOp(spec)], options);
}
