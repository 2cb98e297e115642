import { describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/kube/json.ts';
import { authorize, forbiddenMessage, missingRule, ruleAllows, serviceAccountUser } from '../../src/kube/rbac.ts';
import type { PolicyRule, RbacPolicy, ResourceAttributes } from '../../src/kube/rbac.ts';
import { Authenticator, userInfo } from '../../src/kube/users.ts';

const node = userInfo(serviceAccountUser('kube-system', 'hostnic-node'));

function rule(partial: Partial<PolicyRule>): PolicyRule {
  return { verbs: [], apiGroups: [''], resources: [], resourceNames: [], ...partial };
}

function attrs(partial: Partial<ResourceAttributes>): ResourceAttributes {
  return { user: node, verb: 'get', apiGroup: '', resource: 'pods', ...partial };
}

function role(kind: 'Role' | 'ClusterRole', name: string, rules: PolicyRule[], namespace?: string): JsonObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind,
    metadata: namespace === undefined ? { name } : { name, namespace },
    rules: rules.map((r) => ({ verbs: [...r.verbs], apiGroups: [...r.apiGroups], resources: [...r.resources], resourceNames: [...r.resourceNames] })),
  };
}

function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleRef: { kind: string; name: string }, subjects: JsonObject[], namespace?: string): JsonObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind,
    metadata: namespace === undefined ? { name } : { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
    subjects,
  };
}

const sa = (name: string, namespace?: string): JsonObject => (namespace === undefined ? { kind: 'ServiceAccount', name } : { kind: 'ServiceAccount', name, namespace });

function policy(p: Partial<RbacPolicy>): RbacPolicy {
  return { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [], ...p };
}

describe('ruleAllows', () => {
  test('verbs, API groups and resources match exactly or by *', () => {
    expect(ruleAllows(rule({ verbs: ['get', 'list'], resources: ['pods'] }), attrs({}))).toBe(true);
    expect(ruleAllows(rule({ verbs: ['list'], resources: ['pods'] }), attrs({}))).toBe(false);
    expect(ruleAllows(rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }), attrs({ verb: 'deletecollection', apiGroup: 'x.io', resource: 'things' }))).toBe(true);
    expect(ruleAllows(rule({ verbs: ['get'], apiGroups: ['network.qingcloud.com'], resources: ['ippools'] }), attrs({ resource: 'ippools' }))).toBe(false);
  });

  test('a subresource needs its own entry (or */subresource, or *)', () => {
    const status = attrs({ verb: 'patch', subresource: 'status' });
    expect(ruleAllows(rule({ verbs: ['patch'], resources: ['pods'] }), status)).toBe(false);
    expect(ruleAllows(rule({ verbs: ['patch'], resources: ['pods/status'] }), status)).toBe(true);
    expect(ruleAllows(rule({ verbs: ['patch'], resources: ['*/status'] }), status)).toBe(true);
    expect(ruleAllows(rule({ verbs: ['patch'], resources: ['*'] }), status)).toBe(true);
    expect(ruleAllows(rule({ verbs: ['patch'], resources: ['pods/status'] }), attrs({ verb: 'patch', name: 'p' }))).toBe(false);
  });

  test('resourceNames restrict to named requests, so never grant list, watch or create', () => {
    const named = rule({ verbs: ['get', 'list', 'watch', 'create', 'update'], resources: ['configmaps'], resourceNames: ['hostnic-ipam-config'] });
    expect(ruleAllows(named, attrs({ resource: 'configmaps', name: 'hostnic-ipam-config' }))).toBe(true);
    expect(ruleAllows(named, attrs({ resource: 'configmaps', name: 'other' }))).toBe(false);
    for (const verb of ['list', 'watch', 'create']) expect(ruleAllows(named, attrs({ verb, resource: 'configmaps' }))).toBe(false);
    // ...unless a field selector narrowed the list or watch to that one name.
    expect(ruleAllows(named, attrs({ verb: 'watch', resource: 'configmaps', name: 'hostnic-ipam-config' }))).toBe(true);
  });
});

describe('authorize', () => {
  const readPods = role('ClusterRole', 'read-pods', [rule({ verbs: ['get', 'list', 'watch'], resources: ['pods'] })]);

  test('nothing bound: denied, no reason', () => {
    expect(authorize(policy({ clusterRoles: [readPods] }), attrs({ namespace: 'default', name: 'p' }))).toEqual({ allowed: false, reason: '' });
  });

  test('a ClusterRoleBinding grants in every namespace and at cluster scope', () => {
    const p = policy({ clusterRoles: [readPods], clusterRoleBindings: [binding('ClusterRoleBinding', 'b', { kind: 'ClusterRole', name: 'read-pods' }, [sa('hostnic-node', 'kube-system')])] });
    expect(authorize(p, attrs({ namespace: 'default', name: 'p' })).allowed).toBe(true);
    expect(authorize(p, attrs({ verb: 'list' })).allowed).toBe(true);
    expect(authorize(p, attrs({ verb: 'delete', namespace: 'default', name: 'p' })).allowed).toBe(false);
    // Another service account of the same name elsewhere is someone else.
    expect(authorize(p, attrs({ user: userInfo(serviceAccountUser('default', 'hostnic-node')), verb: 'list' })).allowed).toBe(false);
  });

  test('a RoleBinding grants only in its namespace, whether it references a Role or a ClusterRole', () => {
    const p = policy({
      clusterRoles: [readPods],
      roles: [role('Role', 'leases', [rule({ verbs: ['get', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] })], 'kube-system')],
      roleBindings: [
        binding('RoleBinding', 'pods', { kind: 'ClusterRole', name: 'read-pods' }, [sa('hostnic-node', 'kube-system')], 'team-a'),
        binding('RoleBinding', 'leases', { kind: 'Role', name: 'leases' }, [sa('hostnic-node')], 'kube-system'),
      ],
    });
    expect(authorize(p, attrs({ verb: 'list', namespace: 'team-a' })).allowed).toBe(true);
    expect(authorize(p, attrs({ verb: 'list', namespace: 'team-b' })).allowed).toBe(false);
    expect(authorize(p, attrs({ verb: 'list' })).allowed).toBe(false);
    // A ServiceAccount subject without a namespace is one of the binding's namespace.
    const lease = attrs({ verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', name: 'hostnic-controller' });
    expect(authorize(p, { ...lease, namespace: 'kube-system' }).allowed).toBe(true);
    expect(authorize(p, { ...lease, namespace: 'default' }).allowed).toBe(false);
  });

  test('User and Group subjects; service accounts are in system:serviceaccounts[:<namespace>]', () => {
    const p = (subject: JsonObject): RbacPolicy => policy({ clusterRoles: [readPods], clusterRoleBindings: [binding('ClusterRoleBinding', 'b', { kind: 'ClusterRole', name: 'read-pods' }, [subject])] });
    expect(authorize(p({ kind: 'User', name: 'alice' }), attrs({ user: userInfo('alice'), verb: 'list' })).allowed).toBe(true);
    expect(authorize(p({ kind: 'User', name: 'alice' }), attrs({ user: userInfo('bob'), verb: 'list' })).allowed).toBe(false);
    expect(authorize(p({ kind: 'Group', name: 'system:serviceaccounts:kube-system' }), attrs({ verb: 'list' })).allowed).toBe(true);
    expect(authorize(p({ kind: 'Group', name: 'system:authenticated' }), attrs({ user: userInfo('bob'), verb: 'list' })).allowed).toBe(true);
  });

  test('bindings to missing roles explain the denial, as the apiserver appends it', () => {
    const p = policy({
      clusterRoleBindings: [binding('ClusterRoleBinding', 'b', { kind: 'ClusterRole', name: 'hostnic-node' }, [sa('hostnic-node', 'kube-system')])],
      roleBindings: [binding('RoleBinding', 'r', { kind: 'Role', name: 'hostnic-leases' }, [sa('hostnic-node', 'kube-system')], 'kube-system')],
    });
    expect(authorize(p, attrs({ verb: 'list', namespace: 'default' }))).toEqual({ allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "hostnic-node" not found' });
    expect(authorize(p, attrs({ verb: 'list', namespace: 'kube-system' })).reason).toBe(
      'RBAC: [clusterrole.rbac.authorization.k8s.io "hostnic-node" not found, role.rbac.authorization.k8s.io "hostnic-leases" not found]');
  });

  test('system:masters (admin) is allowed without any policy', () => {
    expect(authorize(policy({}), attrs({ user: userInfo('admin'), verb: 'delete', namespace: 'default', name: 'p' })).allowed).toBe(true);
  });
});

describe('messages', () => {
  test('namespaced, cluster-scoped, group-qualified and collection requests', () => {
    expect(forbiddenMessage(attrs({ verb: 'patch', subresource: 'status', namespace: 'default', name: 'x' }), '')).toBe(
      'pods "x" is forbidden: User "system:serviceaccount:kube-system:hostnic-node" cannot patch resource "pods/status" in API group "" in the namespace "default"');
    expect(forbiddenMessage(attrs({ verb: 'list', apiGroup: 'network.qingcloud.com', resource: 'ipamblocks' }), '')).toBe(
      'ipamblocks.network.qingcloud.com is forbidden: User "system:serviceaccount:kube-system:hostnic-node" cannot list resource "ipamblocks" in API group "network.qingcloud.com" at the cluster scope');
    expect(forbiddenMessage(attrs({ verb: 'get', resource: 'nodes', name: 'n1' }), 'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found')).toBe(
      'nodes "n1" is forbidden: User "system:serviceaccount:kube-system:hostnic-node" cannot get resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found');
  });

  test('missingRule is the rule to add', () => {
    expect(missingRule(attrs({ verb: 'patch', subresource: 'status', namespace: 'default', name: 'x' }))).toEqual({ verbs: ['patch'], apiGroups: [''], resources: ['pods/status'], resourceNames: [] });
  });
});

describe('Authenticator', () => {
  test('tokens map to users; the server token is admin; unknown tokens are nobody', () => {
    const auth = new Authenticator('root', { t1: serviceAccountUser('kube-system', 'hostnic-node') });
    expect(auth.authenticate('Bearer t1')).toEqual({ name: 'system:serviceaccount:kube-system:hostnic-node', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] });
    expect(auth.authenticate('Bearer root')).toEqual({ name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    expect(auth.authenticate('Bearer nope')).toBeUndefined();
    expect(auth.authenticate(undefined)).toBeUndefined();
  });

  test('with authentication off, anyone is admin unless they bring a known token', () => {
    const auth = new Authenticator(undefined, { t1: 'alice' });
    expect(auth.authenticate(undefined)?.name).toBe('admin');
    expect(auth.authenticate('Bearer whatever')?.name).toBe('admin');
    expect(auth.authenticate('Bearer t1')?.name).toBe('alice');
  });
});
