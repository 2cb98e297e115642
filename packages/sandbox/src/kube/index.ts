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
 * await server.close();
 * ```
 */
export { FakeKubeApiServer, startFakeKubeApiServer } from './server.ts';
export type { FakeKubeApiServerOptions, ListOptions } from './server.ts';
export { HOSTNIC_CRDS, crdManifest, registerHostnicCrds } from './crds.ts';
export type { CrdDefinition } from './crds.ts';
export { Faults } from './faults.ts';
export type { FailOptions, RequestInfo, RequestMatch, Verb } from './faults.ts';
export type { RequestLogEntry, RequestLogFilter } from './request-log.ts';
export type { KubeConfigOptions, KubeconfigSettings } from './kubeconfig.ts';
export type { KubeObject, ObjectMeta, OwnerReference } from './types.ts';
export type { WatchInfo } from './watch.ts';
export type { Scope } from './resources.ts';
