import { getObject, getString, getStringArray, isJsonObject } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { CRD_GROUP } from './resources.ts';
import type { ResourceDef, Scope } from './resources.ts';
import { toStructural } from './schema.ts';
import type { Structural } from './schema.ts';

/** The short form accepted by `registerCrd`. */
export interface CrdDefinition {
  group: string;
  version: string;
  plural: string;
  kind: string;
  scope: Scope;
  statusSubresource?: boolean;
  singular?: string;
  listKind?: string;
  shortNames?: string[];
  /** Further served versions; objects are shared between versions without conversion. */
  extraVersions?: string[];
}

/** The apiextensions.k8s.io/v1 object for a short definition, as `kubectl apply` of a CRD would send it. */
export function crdManifest(def: CrdDefinition): JsonObject {
  const subresources: JsonObject = def.statusSubresource ? { status: {} } : {};
  const version = (name: string, storage: boolean): JsonObject => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    subresources,
  });
  const names: JsonObject = {
    plural: def.plural,
    singular: def.singular ?? def.kind.toLowerCase(),
    kind: def.kind,
    listKind: def.listKind ?? `${def.kind}List`,
  };
  if (def.shortNames && def.shortNames.length > 0) names['shortNames'] = def.shortNames;
  return {
    apiVersion: `${CRD_GROUP}/v1`,
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}` },
    spec: {
      group: def.group,
      names,
      scope: def.scope,
      versions: [version(def.version, true), ...(def.extraVersions ?? []).map((v) => version(v, false))],
    },
  };
}

/** What the apiextensions controller would write into status once the names are accepted. */
export function establishedStatus(crd: JsonObject, now: string): JsonObject {
  const spec = getObject(crd, 'spec') ?? {};
  const condition = (type: string, reason: string, message: string): JsonObject => ({
    type, status: 'True', lastTransitionTime: now, reason, message,
  });
  return {
    acceptedNames: getObject(spec, 'names') ?? {},
    storedVersions: versionsOf(crd).filter((v) => v.storage).map((v) => v.name),
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
  };
}

interface VersionInfo {
  name: string;
  served: boolean;
  storage: boolean;
  status: boolean;
}

function versionsOf(crd: JsonObject): VersionInfo[] {
  const versions = getObject(crd, 'spec')?.['versions'];
  if (!Array.isArray(versions)) return [];
  return versions.filter(isJsonObject).map((v) => ({
    name: getString(v, 'name') ?? '',
    served: v['served'] !== false,
    storage: v['storage'] === true,
    status: getObject(getObject(v, 'subresources') ?? {}, 'status') !== undefined,
  }));
}

/** Turns a validated CRD object into the definition the server routes by. */
export function defFromCrd(crd: JsonObject): ResourceDef {
  const spec = getObject(crd, 'spec') ?? {};
  const names = getObject(spec, 'names') ?? {};
  const kind = getString(names, 'kind') ?? '';
  const versions = versionsOf(crd);
  const served = versions.filter((v) => v.served);
  const storage = versions.find((v) => v.storage) ?? served[0];
  return {
    group: getString(spec, 'group') ?? '',
    versions: served.map((v) => v.name),
    storageVersion: storage?.name ?? '',
    plural: getString(names, 'plural') ?? '',
    singular: getString(names, 'singular') ?? kind.toLowerCase(),
    kind,
    listKind: getString(names, 'listKind') ?? `${kind}List`,
    shortNames: getStringArray(names, 'shortNames'),
    scope: getString(spec, 'scope') === 'Namespaced' ? 'Namespaced' : 'Cluster',
    statusSubresource: served.some((v) => v.status),
    custom: true,
    allowUnconditionalUpdate: false,
    returnDeletedObject: true,
    selectableFields: [],
  };
}

/**
 * The schema custom resources of `version` are pruned, defaulted and validated by, or undefined to store
 * them as sent. A root that declares neither properties nor additionalProperties (`type: object` alone,
 * or with x-kubernetes-preserve-unknown-fields) counts as no schema: a real apiserver would prune such
 * objects to nothing, but CRDs written for this fake before it enforced schemas rely on it.
 */
export function crdSchema(crd: JsonObject, version: string): Structural | undefined {
  const versions = getObject(crd, 'spec')?.['versions'];
  if (!Array.isArray(versions)) return undefined;
  const entry = versions.find((v) => isJsonObject(v) && v['name'] === version);
  const root = isJsonObject(entry) ? getObject(getObject(entry, 'schema') ?? {}, 'openAPIV3Schema') : undefined;
  if (!root) return undefined;
  if (!isJsonObject(root['properties']) && !isJsonObject(root['additionalProperties'])) return undefined;
  return toStructural(root);
}

/** client-node's typed models (what its loadAllYaml returns) rename these JSONSchemaProps fields. */
const MODEL_FIELDS: Readonly<Record<string, string>> = { _default: 'default', _enum: 'enum' };

function wireSchemaNode(node: JsonValue): JsonValue {
  if (!isJsonObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    const wireKey = MODEL_FIELDS[key] ?? (key.startsWith('x_kubernetes_') ? key.replaceAll('_', '-') : key);
    switch (wireKey) {
      case 'properties':
      case 'definitions':
      case 'patternProperties':
        out[wireKey] = isJsonObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wireSchemaNode(v)])) : value;
        break;
      case 'items':
      case 'additionalProperties':
      case 'additionalItems':
      case 'not':
        out[wireKey] = Array.isArray(value) ? value.map(wireSchemaNode) : wireSchemaNode(value);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[wireKey] = Array.isArray(value) ? value.map(wireSchemaNode) : value;
        break;
      default:
        out[wireKey] = value;
    }
  }
  return out;
}

/**
 * A CRD as it travels on the wire. Objects parsed by a plain YAML parser already are; client-node's typed
 * models spell some schema fields differently (`x_kubernetes_preserve_unknown_fields`, `_default`), which
 * the apiserver would not recognise, so they are renamed back.
 */
export function wireCrd(crd: JsonObject): JsonObject {
  const spec = getObject(crd, 'spec');
  const versions = spec?.['versions'];
  if (!spec || !Array.isArray(versions)) return crd;
  return {
    ...crd,
    spec: {
      ...spec,
      versions: versions.map((v) => {
        const schema = isJsonObject(v) ? getObject(v, 'schema') : undefined;
        const root = schema?.['openAPIV3Schema'];
        if (!isJsonObject(v) || !schema || root === undefined) return v;
        return { ...v, schema: { ...schema, openAPIV3Schema: wireSchemaNode(root) } };
      }),
    },
  };
}

/** hostnic's four kinds in network.qingcloud.com/v1alpha1. */
export const HOSTNIC_CRDS: readonly CrdDefinition[] = [
  { group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'vxnetpools', kind: 'VxNetPool', scope: 'Cluster', statusSubresource: true },
  { group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ippools', kind: 'IPPool', scope: 'Cluster', statusSubresource: true },
  { group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ipamblocks', kind: 'IPAMBlock', scope: 'Cluster' },
  { group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ipamhandles', kind: 'IPAMHandle', scope: 'Cluster' },
];

/** Registers VxNetPool, IPPool, IPAMBlock and IPAMHandle on a fake apiserver (or anything with registerCrd). */
export function registerHostnicCrds(server: { registerCrd(def: CrdDefinition): unknown }): void {
  for (const def of HOSTNIC_CRDS) server.registerCrd(def);
}
