/**
 * Routes in any table, with replace semantics: `route replace` creates or overwrites the route with the
 * same destination in the table, so a stale route to the same prefix through another device (a leftover
 * veth) is replaced instead of kept.
 *
 * @packageDocumentation
 */

import { assertIPv4, checkPrefix, normalizePrefix } from './addr-util.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import { InvalidArgumentError } from './errors.ts';
import type { LinkOptions } from './links.ts';
import { validateIfName } from './names.ts';
import { readRoutes } from './snapshot.ts';
import type { Route, RouteScope } from './types.ts';
import { RouteTable } from './types.ts';

/** A route to ensure or remove. */
export interface RouteSpec {
  /** Destination prefix, or `default`. */
  readonly dst: string;
  readonly dev?: string | undefined;
  readonly gateway?: string | undefined;
  /** Default main (254). */
  readonly table?: number | undefined;
  /** Default: what the kernel picks (link for routes without gateway given with `scope link`, else global). */
  readonly scope?: 'global' | 'link' | 'host' | undefined;
  /** Preferred source address. */
  readonly src?: string | undefined;
  readonly onlink?: boolean | undefined;
  readonly metric?: number | undefined;
}

function tableOf(spec: RouteSpec): number {
  const t = spec.table ?? RouteTable.main;
  if (!Number.isInteger(t) || t < 1 || t > 0xffffffff) throw new InvalidArgumentError('table', t, 'not a table id');
  return t;
}

function dstOf(spec: RouteSpec): string {
  if (spec.dst === 'default') return 'default';
  const dst = checkPrefix('dst', spec.dst);
  return dst === '0.0.0.0/0' ? 'default' : dst;
}

function selectorArgs(spec: RouteSpec): string[] {
  const args: string[] = [];
  if (spec.gateway !== undefined) {
    assertIPv4('gateway', spec.gateway);
    args.push('via', spec.gateway);
  }
  if (spec.dev !== undefined) args.push('dev', validateIfName(spec.dev));
  args.push('table', String(tableOf(spec)));
  return args;
}

/** `route replace <dst> [via] [dev] table <t> [scope] [src] [onlink] [metric]`. */
export function routeReplaceOp(spec: RouteSpec): BatchOp {
  if (spec.dev === undefined && spec.gateway === undefined) {
    throw new InvalidArgumentError('route', spec, 'needs a dev or a gateway');
  }
  const args = ['route', 'replace', dstOf(spec), ...selectorArgs(spec)];
  if (spec.scope !== undefined) args.push('scope', spec.scope);
  if (spec.src !== undefined) {
    assertIPv4('src', spec.src);
    args.push('src', spec.src);
  }
  if (spec.metric !== undefined) args.push('metric', String(spec.metric));
  if (spec.onlink) args.push('onlink');
  return op(args);
}

/**
 * `route del <dst> [via] [dev] table <t>`: the kernel deletes the first route of the table with that
 * destination that also matches the given gateway/device, so naming the device keeps a route through
 * another device alive. Missing (ESRCH), or a device already gone (ENODEV), counts as removed.
 */
export function routeDelOp(spec: RouteSpec): BatchOp {
  const args = ['route', 'del', dstOf(spec), ...selectorArgs(spec)];
  if (spec.metric !== undefined) args.push('metric', String(spec.metric));
  return op(args, ['ESRCH', 'ENOENT', 'ENODEV']);
}

/** `route flush table <t>`: empties a table (a no-op on an empty one). */
export function routeFlushTableOp(table: number): BatchOp {
  return op(['route', 'flush', 'table', String(tableOf({ dst: 'default', table }))]);
}

const SCOPE_OF_SPEC: Record<string, RouteScope> = { global: 'global', link: 'link', host: 'host' };

/** Whether `route` is the route `spec` describes (fields the spec leaves open match anything). */
export function routeMatches(route: Route, spec: RouteSpec): boolean {
  if (route.table !== (spec.table ?? RouteTable.main)) return false;
  if (route.dst !== normalizePrefix(spec.dst === 'default' ? '0.0.0.0/0' : spec.dst)) return false;
  if (route.type !== 'unicast') return false;
  if (spec.dev !== undefined && route.dev !== spec.dev) return false;
  if (spec.gateway !== undefined && route.gateway !== spec.gateway) return false;
  if (spec.gateway === undefined && route.gateway !== undefined) return false;
  if (spec.scope !== undefined && route.scope !== SCOPE_OF_SPEC[spec.scope]) return false;
  if (spec.src !== undefined && route.src !== spec.src) return false;
  if (spec.onlink !== undefined && route.onlink !== spec.onlink) return false;
  if (spec.metric !== undefined && (route.metric ?? 0) !== spec.metric) return false;
  return true;
}

/** Makes sure the route exists exactly as given (replacing a different route to the same prefix). */
export async function ensureRoute(spec: RouteSpec, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([routeReplaceOp(spec)], options);
}

/** Removes the route (missing counts as removed). */
export async function removeRoute(spec: RouteSpec, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([routeDelOp(spec)], options);
}

/** Routes of `table` that match `spec`. */
export async function findRoutes(spec: RouteSpec, options?: LinkOptions): Promise<Route[]> {
  const routes = await readRoutes({ ...options, table: spec.table ?? RouteTable.main });
  return routes.filter((r) => routeMatches(r, spec));
}
