/**
 * `@hostnic/runtime/kube/http`: the lean Kubernetes client (node:http(s), no undici, no client-node): access loading, JSON
 * requests, lists, patches, deletes, watches and an informer on them.
 */
export { KubeClient } from './client.ts';
export type {
  CallOptions,
  DeleteOptions,
  HttpMethod,
  KubeClientOptions,
  KubeClientStats,
  KubeList,
  ListMeta,
  ListOptions,
  PatchStrategy,
  RequestOptions,
  Selectors,
  WatchOptions,
} from './client.ts';
export { KubeInformer } from './informer.ts';
export type { KubeInformerOptions, KubeInformerStats } from './informer.ts';
export type { KubeObject, ObjectMeta } from './objects.ts';
export type { Backoff, InformerEvent, InformerEventType, InformerHandler, InformerStats } from '../informer-events.ts';
export { InformerStoppedError, SyncAbortedError } from '../errors.ts';
export { KubeApiError, KubeConfigError, KubeDecodeError, KubeRequestError } from './errors.ts';
export type { KubeStatus } from './errors.ts';
export { accessFromKubeConfig, inClusterAccess, SERVICE_ACCOUNT_DIR } from './kubeconfig.ts';
export type { KubeAccessSpec, PemSource } from './kubeconfig.ts';
export { kubeAccessFromText, kubeConfigFileAccess, loadKubeAccess, parseKubeConfigText, resolveAccess } from './access.ts';
export type { KubeAccess, LoadKubeAccessOptions, LoadedKubeAccess } from './access.ts';
export { KubeConfigNotFoundError } from '../kubeconfig-errors.ts';
export { FileTokenSource, fixedToken } from './token.ts';
export type { TokenSource } from './token.ts';
export { configMapsApi, customObjectsApi } from './shaped-apis.ts';
export type { ClusterObjectRef, ConfigMap, ConfigMapsApi, CustomObjectsApi, DeletePreconditions } from './shaped-apis.ts';
export { resourcePath, withQuery } from './paths.ts';
export type { QueryValue, ResourceRef } from './paths.ts';
export { LineSplitter, parseWatchLine } from './watch-lines.ts';
export type { WatchEvent, WatchEventType } from './watch-lines.ts';
export { TokenBucket } from '../token-bucket.ts';
export type { RateLimit } from '../token-bucket.ts';
export { describeError, httpStatusOf, isConflict, isNotFound } from '../status.ts';
