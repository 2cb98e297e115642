import { getObject, getString, getStringArray, isJsonObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { CRD_GROUP } from './resources.ts';
import type { ResourceDef, Scope } from './resources.ts';

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

/** hostnic's four kinds in network.qingcloud.com/v1alpha1 (ipam-controller spec §1.0). */
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
