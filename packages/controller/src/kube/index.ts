/** Kubernetes plumbing of hostnic-controller: work queue, leader election, events. */
export { WorkQueue } from './workqueue.ts';
export type { ProcessResult, WorkQueueOptions } from './workqueue.ts';
export { LeaderElector } from './leader.ts';
export type { LeaderCallbacks, LeaderElectorOptions } from './leader.ts';
export { EventRecorder } from './events.ts';
export type { EventRecorderOptions, EventRecorderStats, EventSubject, EventType } from './events.ts';
export { AlreadyRunningError } from './errors.ts';
