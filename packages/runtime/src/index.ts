/**
 * @hostnic/runtime: the plumbing the hostnic daemons share, so that each job is written once. The Kubernetes
 * client is a subpath (`@hostnic/runtime/kube/http`), so that a command that never talks to the API does not
 * load it.
 */
export { InvalidOptionError, errorText } from './errors.ts';
export { LOG_LEVELS, chooseLevel, createLogger, levelFromVerbosity, silentLogger } from './log.ts';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './log.ts';
export { LATENCY_BUCKETS, Metrics, requestFamilies, timed } from './metrics.ts';
export type { Labels, MetricsOptions, RequestFamilies } from './metrics.ts';
export { MAX_TIMER_MS, backoffDelay, checkDelay, every, sleep } from './timers.ts';
export type { Periodic } from './timers.ts';
export { KeyedLock, SharedExclusiveGate } from './locks.ts';
export { FAILPOINT_ENV, UnknownFailpointError, failpointFromEnv, noFailpoint } from './failpoints.ts';
export type { Failpoint } from './failpoints.ts';
export { UndoStack, describeUndoFailures } from './undo.ts';
export type { UndoFailure } from './undo.ts';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isMainModule, newProgram, processIo, runProgram, stopSignal } from './cli.ts';
export type { CliOutput } from './cli.ts';
export { buildRevision, versionText } from './version.ts';
export { closeServer, listen, probeReply, readOnlyHandler } from './http.ts';
export type { Listening, Reply, Route } from './http.ts';
