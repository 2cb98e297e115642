import type { Verb } from './faults.ts';
import type { ResourceDef, ResourceRegistry } from './resources.ts';
import { methodNotAllowed, pathNotFound } from './status.ts';

export type Route =
  | { readonly kind: 'health' }
  | { readonly kind: 'version' }
  | { readonly kind: 'core-versions' }
  | { readonly kind: 'group-list' }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'resource-list'; readonly group: string; readonly version: string }
  | { readonly kind: 'openapi-index' }
  | { readonly kind: 'openapi-v2' }
  | { readonly kind: 'openapi'; readonly group: string; readonly version: string }
  | ResourceRoute;

export interface ResourceRoute {
  readonly kind: 'resource';
  readonly def: ResourceDef;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: 'status' | undefined;
  /** The deprecated `/watch/` path prefix. */
  readonly watchPath: boolean;
}

/** Namespace subresources, which would otherwise read as a namespaced collection named "status". */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * Maps a URL path onto what it addresses, the way the apiserver's RequestInfoFactory does:
 * `/api/v1[/watch][/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]` and the same under
 * `/apis/<group>/<version>`. Unknown paths throw a 404 Status.
 */
export function parsePath(pathname: string, registry: ResourceRegistry): Route {
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw pathNotFound();
  }
  const [head] = segments;
  if (head === 'healthz' || head === 'livez' || head === 'readyz') return { kind: 'health' };
  if (head === 'version' && segments.length === 1) return { kind: 'version' };
  if (head === 'openapi' && segments[1] === 'v3') return openApiRoute(segments.slice(2));
  if (head === 'openapi' && segments[1] === 'v2' && segments.length === 2) return { kind: 'openapi-v2' };
  let group: string;
  let version: string;
  let rest: string[];
  if (head === 'api') {
    if (segments.length === 1) return { kind: 'core-versions' };
    group = '';
    version = segments[1] ?? '';
    if (segments.length === 2) return { kind: 'resource-list', group, version };
    rest = segments.slice(2);
  } else if (head === 'apis') {
    if (segments.length === 1) return { kind: 'group-list' };
    group = segments[1] ?? '';
    if (segments.length === 2) return { kind: 'group', group };
    version = segments[2] ?? '';
    if (segments.length === 3) return { kind: 'resource-list', group, version };
    rest = segments.slice(3);
  } else {
    throw pathNotFound();
  }

  const watchPath = rest[0] === 'watch';
  if (watchPath) rest = rest.slice(1);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2] ?? ''))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) throw pathNotFound();
  const def = registry.find(group, version, plural);
  if (!def) throw pathNotFound();
  if (namespace !== undefined && def.scope !== 'Namespaced') throw pathNotFound();
  // A namespaced object is only addressable inside its namespace; without one only the collection exists.
  if (namespace === undefined && def.scope === 'Namespaced' && name !== undefined) throw pathNotFound();
  if (subresource !== undefined && (subresource !== 'status' || !def.statusSubresource)) throw pathNotFound();
  return { kind: 'resource', def, version, namespace, name, subresource: subresource === 'status' ? 'status' : undefined, watchPath };
}

/** `/openapi/v3`, `/openapi/v3/api/<version>`, `/openapi/v3/apis/<group>/<version>`. */
function openApiRoute(rest: readonly string[]): Route {
  if (rest.length === 0) return { kind: 'openapi-index' };
  if (rest.length === 2 && rest[0] === 'api') return { kind: 'openapi', group: '', version: rest[1] ?? '' };
  if (rest.length === 3 && rest[0] === 'apis') return { kind: 'openapi', group: rest[1] ?? '', version: rest[2] ?? '' };
  throw pathNotFound();
}

/** The verb of a resource request, from its method, its shape and `?watch`. */
export function verbOf(method: string, route: ResourceRoute, watchParam: boolean): Verb {
  const watch = route.watchPath || watchParam;
  if (route.subresource !== undefined) {
    if (method === 'GET' && !watch) return 'get';
    if (method === 'PUT') return 'update';
    if (method === 'PATCH') return 'patch';
    throw methodNotAllowed();
  }
  const item = route.name !== undefined;
  switch (method) {
    case 'GET':
      if (watch) return 'watch';
      return item ? 'get' : 'list';
    case 'POST':
      if (item) throw methodNotAllowed();
      if (route.def.scope === 'Namespaced' && route.namespace === undefined) throw methodNotAllowed();
      return 'create';
    case 'PUT':
      if (!item) throw methodNotAllowed();
      return 'update';
    case 'PATCH':
      if (!item) throw methodNotAllowed();
      return 'patch';
    case 'DELETE':
      if (item) return 'delete';
      if (route.def.scope === 'Namespaced' && route.namespace === undefined) throw methodNotAllowed();
      return 'deletecollection';
    default:
      throw methodNotAllowed();
  }
}
