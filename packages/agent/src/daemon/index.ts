export { AgentStartError, startAgent } from './agent.ts';
export type { Agent, StartAgentOptions } from './agent.ts';
export { jsonLogger } from './log.ts';
export type { DaemonLogger } from './log.ts';
export { renderMetrics, startMetricsServer } from './metrics.ts';
export type { MetricsServer, MetricsSource } from './metrics.ts';
export { waitForStopSignal } from './signals.ts';
