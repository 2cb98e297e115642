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

/** A length-delimited protobuf field: enough to write the two strings and a message below. */
function protoField(number: number, value: Buffer): Buffer {
  const length: number[] = [];
  let n = value.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), value]);
}

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/**
 * GET /openapi/v2: a Swagger 2.0 document without definitions. Kubectl releases that predate server-side
 * field validation (Debian's 1.20) download it before `apply` and skip validating any kind it does not
 * define; they ask for gnostic's protobuf form, whose Document has swagger (1) and info (2: title 1, version 2).
 */
export function openApiV2(protobuf: boolean): { contentType: string; body: Buffer } {
  const title = 'Kubernetes';
  const version = 'v1.33.0';
  if (!protobuf) {
    const json = { swagger: '2.0', info: { title, version }, paths: {}, definitions: {} };
    return { contentType: 'application/json', body: Buffer.from(JSON.stringify(json)) };
  }
  const info = Buffer.concat([protoField(1, Buffer.from(title)), protoField(2, Buffer.from(version))]);
  // Not the Accept type itself: Go's mime parser, which client-go runs on every response, refuses its "@".
  return { contentType: 'application/octet-stream', body: Buffer.concat([protoField(1, Buffer.from('2.0')), protoField(2, info)]) };
}
