/** Kubernetes helpers of the hostnic daemons: error status, kubeconfig loading, rate limiting, the informer. */
export { Informer } from './informer.ts';
export type { Backoff, InformerEvent, InformerEventType, InformerHandler, InformerOptions, InformerStats, ListResult } from './informer.ts';
export { InformerStoppedError, MalformedObjectError, SyncAbortedError } from './errors.ts';
export { configMapInformer, customResourceInformer, namespaceInformer, nodeInformer, parseCustomObject, podInformer } from './informers.ts';
export type { CustomObject, CustomResource, InformerSettings } from './informers.ts';
export { mergePatchOptions, requestOptions } from './request-options.ts';
export { describeError, httpStatusOf, isConflict, isNotFound } from './status.ts';
export { KubeConfigNotFoundError, loadKubeConfig } from './kubeconfig.ts';
export type { LoadKubeConfigOptions, LoadedKubeConfig } from './kubeconfig.ts';
export { RateLimitedKubeConfig, TokenBucket } from './rate-limit.ts';
export type { RateLimit } from './rate-limit.ts';
