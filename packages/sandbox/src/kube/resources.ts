export type Scope = 'Cluster' | 'Namespaced';

/** Everything the server needs to know about one kind of object. */
export interface ResourceDef {
  /** `''` for the core group. */
  readonly group: string;
  /** Served versions; objects are stored once and relabelled per version (no conversion). */
  readonly versions: readonly string[];
  readonly storageVersion: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly shortNames: readonly string[];
  readonly scope: Scope;
  readonly statusSubresource: boolean;
  /** Backed by a CustomResourceDefinition (unstructured objects: apiVersion and kind are mandatory). */
  readonly custom: boolean;
  /** Custom resources refuse a PUT without metadata.resourceVersion, as the real apiserver does. */
  readonly allowUnconditionalUpdate: boolean;
  /** Some registries answer DELETE with the object, others with a Success Status. */
  readonly returnDeletedObject: boolean;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  readonly selectableFields: readonly string[];
}

/** Stable identity of a resource regardless of version: `pods`, `leases.coordination.k8s.io`. */
export function resourceId(def: { group: string; plural: string }): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

interface BuiltinSpec {
  group?: string;
  version?: string;
  plural: string;
  kind: string;
  scope: Scope;
  shortNames?: string[];
  status?: boolean;
  returnDeletedObject?: boolean;
  fields?: string[];
}

function builtin(spec: BuiltinSpec): ResourceDef {
  const version = spec.version ?? 'v1';
  return {
    group: spec.group ?? '',
    versions: [version],
    storageVersion: version,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    shortNames: spec.shortNames ?? [],
    scope: spec.scope,
    statusSubresource: spec.status ?? false,
    custom: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: spec.returnDeletedObject ?? false,
    selectableFields: spec.fields ?? [],
  };
}

export const CRD_GROUP = 'apiextensions.k8s.io';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The built-in kinds hostnic touches; each with the field selectors its real registry supports. */
export function builtinResources(): ResourceDef[] {
  return [
    builtin({ plural: 'namespaces', kind: 'Namespace', scope: 'Cluster', shortNames: ['ns'], status: true, returnDeletedObject: true, fields: ['status.phase'] }),
    builtin({ plural: 'nodes', kind: 'Node', scope: 'Cluster', shortNames: ['no'], status: true, returnDeletedObject: true, fields: ['spec.unschedulable'] }),
    builtin({
      plural: 'pods', kind: 'Pod', scope: 'Namespaced', shortNames: ['po'], status: true, returnDeletedObject: true,
      fields: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    }),
    builtin({ plural: 'configmaps', kind: 'ConfigMap', scope: 'Namespaced', shortNames: ['cm'] }),
    builtin({ plural: 'secrets', kind: 'Secret', scope: 'Namespaced', fields: ['type'] }),
    builtin({
      plural: 'events', kind: 'Event', scope: 'Namespaced', shortNames: ['ev'],
      fields: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
    }),
    builtin({ plural: 'services', kind: 'Service', scope: 'Namespaced', shortNames: ['svc'], status: true, fields: ['spec.clusterIP', 'spec.type'] }),
    builtin({ plural: 'serviceaccounts', kind: 'ServiceAccount', scope: 'Namespaced', shortNames: ['sa'], returnDeletedObject: true }),
    builtin({ group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease', scope: 'Namespaced' }),
    // The workloads of deploy/hostnic.yaml, so that `kubectl apply -f` of it succeeds; nothing runs them.
    builtin({ group: 'apps', plural: 'daemonsets', kind: 'DaemonSet', scope: 'Namespaced', shortNames: ['ds'], status: true }),
    builtin({ group: 'apps', plural: 'deployments', kind: 'Deployment', scope: 'Namespaced', shortNames: ['deploy'], status: true }),
    // The controller's disruption budget in deploy/hostnic.yaml.
    builtin({ group: 'policy', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', scope: 'Namespaced', shortNames: ['pdb'], status: true }),
    builtin({ group: RBAC_GROUP, plural: 'clusterroles', kind: 'ClusterRole', scope: 'Cluster' }),
    builtin({ group: RBAC_GROUP, plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', scope: 'Cluster' }),
    builtin({ group: RBAC_GROUP, plural: 'roles', kind: 'Role', scope: 'Namespaced' }),
    builtin({ group: RBAC_GROUP, plural: 'rolebindings', kind: 'RoleBinding', scope: 'Namespaced' }),
    builtin({ group: CRD_GROUP, plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', scope: 'Cluster', shortNames: ['crd', 'crds'], status: true, returnDeletedObject: true }),
  ];
}

/** The set of resources currently served, looked up by URL parts or by a short reference. */
export class ResourceRegistry {
  readonly #byId = new Map<string, ResourceDef>();

  add(def: ResourceDef): void {
    this.#byId.set(resourceId(def), def);
  }

  remove(id: string): void {
    this.#byId.delete(id);
  }

  all(): ResourceDef[] {
    return [...this.#byId.values()];
  }

  byId(id: string): ResourceDef | undefined {
    return this.#byId.get(id);
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    const def = this.#byId.get(resourceId({ group, plural }));
    return def && def.versions.includes(version) ? def : undefined;
  }

  /** Accepts `pods`, `ippools`, `leases.coordination.k8s.io`; throws when unknown or ambiguous. */
  resolve(ref: string): ResourceDef {
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    const matches = this.all().filter((d) => d.plural === ref || d.kind === ref || d.singular === ref);
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) throw new Error(`resource "${ref}" is ambiguous; use plural.group`);
    throw new Error(`unknown resource "${ref}"`);
  }

  /** Group → served versions, in registration order, for discovery. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const def of this.#byId.values()) {
      const versions = out.get(def.group) ?? [];
      for (const v of def.versions) if (!versions.includes(v)) versions.push(v);
      out.set(def.group, versions);
    }
    return out;
  }
}
