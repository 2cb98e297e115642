import { createHash } from 'node:crypto';
import type { JsonObject } from './json.ts';
import { apiVersionOf } from './resources.ts';
import type { ResourceDef, ResourceRegistry } from './resources.ts';

/**
 * The OpenAPI v3 documents kubectl reads before a write. It looks for the `fieldValidation` query parameter
 * on each kind's PATCH operation: found, it leaves validation to the server (the fake validates CRD
 * objects against their schemas) instead of validating on the client against full schemas, which the fake
 * does not publish. No request body media types are listed, so kubectl computes apply patches from its
 * compiled-in types (strategic merge) or, for custom resources, as JSON merge patches.
 */

const WRITE_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];

/** `api/v1` or `apis/<group>/<version>`: the key of a group version in the index. */
function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function patchOperation(def: ResourceDef, version: string): JsonObject {
  return {
    operationId: `patch${def.kind}`,
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: def.group, version, kind: def.kind },
    parameters: WRITE_PARAMETERS.map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })),
    responses: { '200': { description: 'OK' } },
  };
}

/** GET /openapi/v3/api/v1 and /openapi/v3/apis/<group>/<version>. */
export function openApiDocument(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const defs = registry.all().filter((d) => d.group === group && d.versions.includes(version));
  if (defs.length === 0) return undefined;
  const paths: JsonObject = {};
  for (const def of defs) {
    const scope = def.scope === 'Namespaced' ? 'namespaces/{namespace}/' : '';
    paths[`/${groupVersionPath(group, version)}/${scope}${def.plural}/{name}`] = { patch: patchOperation(def, version) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: apiVersionOf(group, version) },
    paths,
    components: { schemas: {} },
  };
}

/** GET /openapi/v3: every served group version, each with a hash of its document so clients' caches notice changes. */
export function openApiIndex(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  for (const [group, versions] of registry.groups()) {
    for (const version of versions) {
      const doc = openApiDocument(registry, group, version);
      if (!doc) continue;
      const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      const path = groupVersionPath(group, version);
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
  }
  return { paths };
}
