/** Kubernetes plumbing of hostnic-controller: informers, work queue, leader election, events. */
export { Informer } from './informer.ts';
export type { Backoff, InformerEvent, InformerEventType, InformerHandler, InformerOptions, InformerStats, ListResult } from './informer.ts';
export { configMapInformer, customResourceInformer, namespaceInformer, nodeInformer, parseCustomObject, podInformer } from './informers.ts';
export type { CustomObject, CustomResource, InformerSettings } from './informers.ts';
export { WorkQueue } from './workqueue.ts';
export type { ProcessResult, WorkQueueOptions } from './workqueue.ts';
export { LeaderElector } from './leader.ts';
export type { LeaderCallbacks, LeaderElectorOptions } from './leader.ts';
export { EventRecorder } from './events.ts';
export type { EventRecorderOptions, EventRecorderStats, EventSubject, EventType } from './events.ts';
export { AlreadyRunningError, InformerStoppedError, InvalidOptionError, MalformedObjectError, SyncAbortedError } from './errors.ts';
export { describeError, httpStatusOf, isConflict, isNotFound } from './status.ts';
export { mergePatchOptions, requestOptions } from './request-options.ts';
