/**
 * Permanent neighbour (ARP) entries.
 *
 * `neigh add` on an existing entry and `neigh del` on a missing one make ip exit in the middle of a batch
 * (no `-force` continuation), so entries are set with `neigh replace` (create or overwrite) and removed
 * with `neigh flush to <ip> dev <dev>`, which succeeds when nothing matches.
 *
 * @packageDocumentation
 */

import { assertIPv4, checkMac, sameMac } from './addr-util.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import type { LinkOptions } from './links.ts';
import { validateIfName } from './names.ts';
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
