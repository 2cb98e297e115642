export { NicManager } from './manager.ts';
export { NIC_DEFAULTS } from './context.ts';
export type { NicClock, NicLogger, NicManagerOptions, Sleep } from './context.ts';
export { NicElsewhereError, NicError, NicTimeoutError, NoFreeNicError } from './errors.ts';
export type { NicStep } from './errors.ts';
export type { ReleaseResult } from './release.ts';
export type { ClearedNic, NicLease } from './manager.ts';
export type { ReconcileSummary } from './reconcile.ts';
