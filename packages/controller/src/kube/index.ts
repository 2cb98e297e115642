/** Kubernetes plumbing of hostnic-controller: its informers, work queue, leader election, events. */
export { configMapInformer, customResourceInformer, namespaceInformer, nodeInformer, parseCustomObject, podInformer } from './informers.ts';
export type { CustomObject, CustomResource, InformerSettings } from './informers.ts';
export { WorkQueue } from './workqueue.ts';
export type { ProcessResult, WorkQueueOptions } from './workqueue.ts';
export { LeaderElector } from './leader.ts';
export type { LeaderCallbacks, LeaderElectorOptions } from './leader.ts';
export { EventRecorder } from './events.ts';
export type { EventRecorderOptions, EventRecorderStats, EventSubject, EventType } from './events.ts';
export { AlreadyRunningError, MalformedObjectError } from './errors.ts';
export { mergePatchOptions, requestOptions } from './request-options.ts';
