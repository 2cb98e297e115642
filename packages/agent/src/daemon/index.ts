export { AgentStartError, startAgent } from './agent.ts';
export type { Agent, StartAgentOptions } from './agent.ts';
export { UNMAPPED_NAMESPACE, ipamRows, registerAgentMetrics } from './metrics.ts';
export type { MetricsSource } from './metrics.ts';
export { startMetricsServer } from './metrics-server.ts';
export type { HealthSources } from './metrics-server.ts';
export { requestMetrics } from './request-metrics.ts';
export type { RequestMetrics } from './request-metrics.ts';
