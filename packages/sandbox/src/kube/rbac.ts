import { getObject, getString, getStringArray, isJsonObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { RBAC_GROUP } from './resources.ts';

/** Who is asking, as an authenticator hands it to the authorizers. */
export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** A resource request as the apiserver's RequestInfo describes it to the authorizers. */
export interface ResourceAttributes {
  readonly user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verb: string;
  /** `''` for the core group. */
  readonly apiGroup: string;
  /** Plural: `pods`, `ippools`. */
  readonly resource: string;
  readonly subresource?: string | undefined;
  /** Empty or undefined for cluster-scoped resources and requests across all namespaces. */
  readonly namespace?: string | undefined;
  /** Empty or undefined for collections (list, watch, create, deletecollection). */
  readonly name?: string | undefined;
}

export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
}

/** The four kinds of RBAC object, as stored (rbac.authorization.k8s.io/v1 JSON). */
export interface RbacPolicy {
  readonly roles: readonly JsonObject[];
  readonly clusterRoles: readonly JsonObject[];
  readonly roleBindings: readonly JsonObject[];
  readonly clusterRoleBindings: readonly JsonObject[];
}

export interface Decision {
  readonly allowed: boolean;
  /** Why RBAC could not do better, as the apiserver appends it to a denial: bindings to roles that do not exist. */
  readonly reason: string;
}

/** A request RBAC turned down, and the rule that would have let it through. */
export interface RbacDenial {
  readonly user: string;
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The message of the 403 Status. */
  readonly message: string;
  readonly missingRule: PolicyRule;
}

/** The group the apiserver lets do anything without asking RBAC. */
export const MASTERS_GROUP = 'system:masters';

export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

function ruleOf(value: unknown): PolicyRule | undefined {
  if (!isJsonObject(value)) return undefined;
  return {
    verbs: getStringArray(value, 'verbs'),
    apiGroups: getStringArray(value, 'apiGroups'),
    resources: getStringArray(value, 'resources'),
    resourceNames: getStringArray(value, 'resourceNames'),
  };
}

function rulesOf(role: JsonObject): PolicyRule[] {
  const rules = role['rules'];
  if (!Array.isArray(rules)) return [];
  return rules.map(ruleOf).filter((r): r is PolicyRule => r !== undefined);
}

/** rbacv1helpers.ResourceMatches: `*`, the exact `resource/subresource`, or `*\/subresource`. */
function resourceMatches(rule: PolicyRule, combined: string, subresource: string | undefined): boolean {
  return rule.resources.some((r) => r === '*' || r === combined || (subresource !== undefined && subresource !== '' && r === `*/${subresource}`));
}

/** Whether one rule grants the request, by the RBAC authorizer's rules. */
export function ruleAllows(rule: PolicyRule, attrs: ResourceAttributes): boolean {
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return (rule.verbs.includes('*') || rule.verbs.includes(attrs.verb)) &&
    (rule.apiGroups.includes('*') || rule.apiGroups.includes(attrs.apiGroup)) &&
    resourceMatches(rule, combined, attrs.subresource) &&
    // Requests without a name (list, watch, create, deletecollection) never match a rule with resourceNames.
    (rule.resourceNames.length === 0 || rule.resourceNames.includes(attrs.name ?? ''));
}

function subjectApplies(subject: unknown, user: UserInfo, bindingNamespace: string): boolean {
  if (!isJsonObject(subject)) return false;
  const name = getString(subject, 'name') ?? '';
  switch (getString(subject, 'kind')) {
    case 'ServiceAccount': {
      // A subject without a namespace means the binding's own (RoleBindings only).
      const namespace = getString(subject, 'namespace') || bindingNamespace;
      return namespace !== '' && user.name === serviceAccountUser(namespace, name);
    }
    case 'User':
      return user.name === name;
    case 'Group':
      return user.groups.includes(name);
    default:
      return false;
  }
}

function bindingApplies(binding: JsonObject, user: UserInfo, namespace: string): boolean {
  const subjects = binding['subjects'];
  return Array.isArray(subjects) && subjects.some((s) => subjectApplies(s, user, namespace));
}

function metaOf(obj: JsonObject): { name: string; namespace: string } {
  const m = getObject(obj, 'metadata');
  return { name: getString(m, 'name') ?? '', namespace: getString(m, 'namespace') ?? '' };
}

/**
 * The RBAC authorizer: ClusterRoleBindings grant everywhere, RoleBindings only inside their namespace
 * (whether they reference a Role there or a ClusterRole). Members of system:masters skip RBAC, as with the
 * apiserver's privileged-group authorizer.
 */
export function authorize(policy: RbacPolicy, attrs: ResourceAttributes): Decision {
  if (attrs.user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '' };
  const clusterRoles = new Map(policy.clusterRoles.map((r) => [metaOf(r).name, r]));
  const roles = new Map(policy.roles.map((r) => [`${metaOf(r).namespace}/${metaOf(r).name}`, r]));
  const errors: string[] = [];
  const resolve = (binding: JsonObject, namespace: string): PolicyRule[] => {
    const ref = getObject(binding, 'roleRef');
    const kind = getString(ref, 'kind');
    const name = getString(ref, 'name') ?? '';
    if (kind !== 'Role' && kind !== 'ClusterRole') {
      errors.push(`unsupported role reference kind: ${JSON.stringify(kind ?? '')}`);
      return [];
    }
    // A ClusterRoleBinding can only reference a ClusterRole; a Role lookup at cluster scope finds nothing.
    const role = kind === 'ClusterRole' ? clusterRoles.get(name) : namespace !== '' ? roles.get(`${namespace}/${name}`) : undefined;
    if (!role) {
      errors.push(`${kind.toLowerCase()}.${RBAC_GROUP} "${name}" not found`);
      return [];
    }
    return rulesOf(role);
  };
  for (const binding of policy.clusterRoleBindings) {
    if (!bindingApplies(binding, attrs.user, '')) continue;
    if (resolve(binding, '').some((rule) => ruleAllows(rule, attrs))) return { allowed: true, reason: '' };
  }
  const namespace = attrs.namespace ?? '';
  if (namespace !== '') {
    for (const binding of policy.roleBindings) {
      const bindingNamespace = metaOf(binding).namespace;
      if (bindingNamespace !== namespace || !bindingApplies(binding, attrs.user, bindingNamespace)) continue;
      if (resolve(binding, bindingNamespace).some((rule) => ruleAllows(rule, attrs))) return { allowed: true, reason: '' };
    }
  }
  if (errors.length === 0) return { allowed: false, reason: '' };
  return { allowed: false, reason: `RBAC: ${errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]`}` };
}

/** The apiserver's 403 message: `pods "x" is forbidden: User "u" cannot patch resource "pods/status" in API group "" in the namespace "default"`. */
export function forbiddenMessage(attrs: ResourceAttributes, reason: string): string {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  const why = `User "${attrs.user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}`;
  const qualified = attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  const subject = attrs.name ? `${qualified} "${attrs.name}"` : qualified;
  return `${subject} is forbidden: ${why}${reason ? `: ${reason}` : ''}`;
}

/** The narrowest rule that grants the request: what a Role (namespaced) or ClusterRole needs to gain. */
export function missingRule(attrs: ResourceAttributes): PolicyRule {
  return {
    verbs: [attrs.verb],
    apiGroups: [attrs.apiGroup],
    resources: [attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource],
    resourceNames: [],
  };
}

/** The plural of each RBAC kind, for picking them out of a mixed list of manifests. */
export const RBAC_KINDS: Readonly<Record<string, string>> = {
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
};
