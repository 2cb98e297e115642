/**
 * Reads: one `ip -N -json -details -batch -` process per snapshot, whatever parts are asked for.
 *
 * `addr show` comes first and stands for both links and addresses: its objects carry every link field plus
 * `addr_info`. (In batch mode ip keeps some filter state between commands: an `addr show` after a
 * `link show` prints no addresses, so the two are never combined.)
 *
 * @packageDocumentation
 */

import type { ReadOutcome } from './batch.ts';
import { readBatch } from './batch.ts';
import type { ExecOptions } from './exec.ts';
import type { Netns } from './netns.ts';
import { parseAddresses, parseLinks, parseNeighbours, parseRoutes, parseRules } from './parse.ts';
import type { Address, Link, Neighbour, Route, Rule, Snapshot } from './types.ts';

/** Options of every read. */
export interface ReadOptions extends ExecOptions {
  /** Where to read. Default: the current namespace. */
  readonly netns?: Netns | undefined;
}

/** Parts of a {@link Snapshot}. */
export type SnapshotPart = 'links' | 'addresses' | 'routes' | 'rules' | 'neighbours';

/** Options of {@link readSnapshot}. */
export interface SnapshotOptions extends ReadOptions {
  /** What to read; default everything. Links and addresses cost the same single command. */
  readonly parts?: readonly SnapshotPart[] | undefined;
  /** Only routes of this table (default: all tables). */
  readonly routeTable?: number | undefined;
}

function valueOf(o: ReadOutcome | undefined): unknown {
  if (!o) return [];
  if (!o.ok) throw o.error;
  return o.value;
}

/** A table that never held a route does not exist for the kernel; listing it is then empty, not an error. */
function routesOf(o: ReadOutcome | undefined): unknown {
  if (o && !o.ok && o.error.errno === 'ENOENT') return [];
  return valueOf(o);
}

/** Reads links, addresses, routes, rules and neighbours of a namespace in one process. */
export async function readSnapshot(options?: SnapshotOptions): Promise<Snapshot> {
  const parts = new Set<SnapshotPart>(options?.parts ?? ['links', 'addresses', 'routes', 'rules', 'neighbours']);
  const commands: string[][] = [];
  const index: Partial<Record<'addr' | 'route' | 'rule' | 'neigh', number>> = {};
  if (parts.has('links') || parts.has('addresses')) index.addr = commands.push(['addr', 'show']) - 1;
  if (parts.has('routes')) {
    const table = options?.routeTable === undefined ? 'all' : String(options.routeTable);
    index.route = commands.push(['route', 'show', 'table', table]) - 1;
  }
  if (parts.has('rules')) index.rule = commands.push(['rule', 'show']) - 1;
  if (parts.has('neighbours')) index.neigh = commands.push(['neigh', 'show']) - 1;
  const outcomes = commands.length === 0 ? [] : await readBatch(commands, options);
  const at = (i: number | undefined): unknown => (i === undefined ? [] : valueOf(outcomes[i]));
  const addr = at(index.addr);
  return {
    links: parts.has('links') ? parseLinks(addr) : [],
    addresses: parts.has('addresses') ? parseAddresses(addr) : [],
    routes: parseRoutes(index.route === undefined ? [] : routesOf(outcomes[index.route]), options?.routeTable),
    rules: parseRules(at(index.rule)),
    neighbours: parseNeighbours(at(index.neigh)),
  };
}

/** All links of a namespace. */
export async function readLinks(options?: ReadOptions): Promise<Link[]> {
  return [...(await readSnapshot({ ...options, parts: ['links'] })).links];
}

/** All addresses of a namespace. */
export async function readAddresses(options?: ReadOptions): Promise<Address[]> {
  return [...(await readSnapshot({ ...options, parts: ['addresses'] })).addresses];
}

/** Routes of one table (or of all tables when `table` is undefined). */
export async function readRoutes(options?: ReadOptions & { readonly table?: number | undefined }): Promise<Route[]> {
  return [...(await readSnapshot({ ...options, parts: ['routes'], routeTable: options?.table })).routes];
}

/** IPv4 policy rules. */
export async function readRules(options?: ReadOptions): Promise<Rule[]> {
  return [...(await readSnapshot({ ...options, parts: ['rules'] })).rules];
}

/** Neighbour entries. */
export async function readNeighbours(options?: ReadOptions): Promise<Neighbour[]> {
  return [...(await readSnapshot({ ...options, parts: ['neighbours'] })).neighbours];
}
