/**
 * A fake kube-apiserver for tests and the sandbox: real HTTP on loopback, spoken to by the unmodified
 * @kubernetes/client-node through a kubeconfig.
 *
 * ```ts
 * const server = await startFakeKubeApiServer();
 * registerHostnicCrds(server);
 * const kc = new KubeConfig();
 * kc.loadFromString(server.kubeconfig());
 * server.faults.conflictOn({ verb: 'update', resource: 'ipamblocks' });
 * // ... run code under test ...
 * ```
 *
 * Closer to a real cluster, opt-in: `users` tells clients apart by token, `enableRbac(manifests)` enforces
 * RBAC on them, and CRDs applied with a structural schema (`applyCrdManifest`, or POST/PUT through the API)
 * get their objects pruned, defaulted and validated:
 *
 * ```ts
 * const server = await startFakeKubeApiServer({ users: { 'node-token': serviceAccountUser('kube-system', 'hostnic-node') } });
 * for (const crd of crdManifests) server.applyCrdManifest(crd);
 * server.enableRbac(rbacManifests);
 * kc.loadFromString(server.kubeconfig({ token: 'node-token' }));
 * // ... run code under test, then: expect(server.rbacDenials()).toEqual([]);
 * await server.close();
 * ```
 */
export { FakeKubeApiServer, startFakeKubeApiServer } from './server.ts';
export type { FakeKubeApiServerOptions, ListOptions } from './server.ts';
export { HOSTNIC_CRDS, crdManifest, registerHostnicCrds } from './crds.ts';
export type { CrdDefinition } from './crds.ts';
export { Faults } from './faults.ts';
export { KubectlError, kubectl, startKubectl } from './kubectl.ts';
export type { KubectlOptions, KubectlProcess } from './kubectl.ts';
export { CertificateError, generateServingCredentials } from './tls.ts';
export type { KeyPair, ServingCredentials } from './tls.ts';
export type { FailOptions, RequestInfo, RequestMatch, Verb } from './faults.ts';
export type { RequestLogEntry, RequestLogFilter } from './request-log.ts';
export { serviceAccountUser } from './rbac.ts';
export type { PolicyRule, RbacDenial } from './rbac.ts';
export { ADMIN_USER } from './users.ts';
export type { KubeConfigOptions, KubeconfigSettings } from './kubeconfig.ts';
export type { KubeObject, ObjectMeta, OwnerReference } from './types.ts';
export type { WatchInfo } from './watch.ts';
export type { Scope } from './resources.ts';
