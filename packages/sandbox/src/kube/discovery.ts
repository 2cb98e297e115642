import type { JsonObject } from './json.ts';
import { apiVersionOf } from './resources.ts';
import type { ResourceRegistry } from './resources.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** GET /api */
export function coreVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupBody(name: string, versions: readonly string[]): JsonObject {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return {
    name,
    versions: entries,
    preferredVersion: entries[0] ?? {},
  };
}

/** GET /apis */
export function groupList(registry: ResourceRegistry): JsonObject {
  const groups = [...registry.groups()].filter(([name]) => name !== '').map(([name, versions]) => groupBody(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** GET /apis/<group> */
export function group(registry: ResourceRegistry, name: string): JsonObject | undefined {
  const versions = registry.groups().get(name);
  if (!versions || name === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupBody(name, versions) };
}

/** GET /api/v1 and /apis/<group>/<version>: what KubernetesObjectApi reads to map a kind to its URL. */
export function resourceList(registry: ResourceRegistry, groupName: string, version: string): JsonObject | undefined {
  const defs = registry.all().filter((d) => d.group === groupName && d.versions.includes(version));
  if (defs.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const def of defs) {
    const namespaced = def.scope === 'Namespaced';
    const entry: JsonObject = { name: def.plural, singularName: def.singular, namespaced, kind: def.kind, verbs: VERBS };
    if (def.shortNames.length > 0) entry['shortNames'] = [...def.shortNames];
    resources.push(entry);
    if (def.statusSubresource) {
      resources.push({ name: `${def.plural}/status`, singularName: '', namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(groupName, version), resources };
}

export function versionInfo(): JsonObject {
  return {
    major: '1',
    minor: '33',
    gitVersion: 'v1.33.0-hostnic-fake',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.24',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
