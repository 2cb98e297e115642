/**
 * The agent's end-to-end tests run on the sandbox's stack (fake kube-apiserver, netns VPC and nodes, agents
 * as processes, the bundled plugin). Relative on purpose: the agent must not depend on the private sandbox
 * package. Pools are made through the library here, so that these tests exercise the agent alone.
 */
import { startHostnicStack } from '../../../sandbox/src/stack/index.ts';
import type { HostnicStack, StackOptions } from '../../../sandbox/src/stack/index.ts';

export { AGENT_CLI, PLUGIN, RELAY_SCRIPT, REPO, nodeLeftovers, run, socketGet, startChild, unixBridge, until, writeAgentConfigs } from '../../../sandbox/src/stack/index.ts';
export type { Child, NodeAgent, PodRef, RunResult } from '../../../sandbox/src/stack/index.ts';

export type AgentCluster = HostnicStack;

export interface AgentClusterOptions extends Omit<StackOptions, 'ipam'> {
  /** Pod vxnets to make IPAM pools of. */
  readonly pools: readonly string[];
  /** The `ipam` value of hostnic-ipam-config; block names of a pool are given by `blocksOf(pool)`. */
  mapping(blocksOf: (pool: string) => string[]): Record<string, string[]>;
  readonly blockSize?: number;
}

export function startAgentCluster(options: AgentClusterOptions): Promise<AgentCluster> {
  const { pools, mapping, blockSize, ...rest } = options;
  return startHostnicStack({ ...rest, ipam: { kind: 'direct', pools, mapping, ...(blockSize === undefined ? {} : { blockSize }) } });
}
