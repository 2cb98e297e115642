/**
 * The agent's end-to-end tests run on the stack (fake kube-apiserver, netns VPC and nodes, agents as
 * processes, the bundled plugin). Pools are made through the library here, so that these tests exercise the
 * agent alone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startHostnicStack } from '../../src/stack/index.ts';
import type { HostnicStack, StackOptions } from '../../src/stack/index.ts';

export { AGENT_CLI, PLUGIN, agentRunArgv, RELAY_SCRIPT, REPO, nodeLeftovers, run, socketGet, startChild, unixBridge, until, writeAgentConfigs } from '../../src/stack/index.ts';
export type { Child, NodeAgent, PodRef, RunResult } from '../../src/stack/index.ts';

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

/** The pod vxnets the e2e tests use, and the management vxnet every sandbox needs. */
export const MGMT = { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true } as const;
export const PODS1 = { id: 'vxnet-pods001', cidr: '172.16.3.0/24' } as const;
export const PODS2 = { id: 'vxnet-pods002', cidr: '172.16.4.0/24' } as const;

/**
 * A one-node-per-entry cluster for a describe block: started in beforeAll (with a random prefix), closed in
 * afterAll; the returned getter throws when called outside them.
 */
export function agentClusterFixture(prefix: string, options: Omit<AgentClusterOptions, 'prefix'>): () => AgentCluster {
  let cluster: AgentCluster | undefined;
  beforeAll(async () => {
    cluster = await startAgentCluster({ prefix: `${prefix}${randomBytes(2).toString('hex')}`, ...options });
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  }, 60_000);
  return () => {
    if (cluster === undefined) throw new Error('no cluster');
    return cluster;
  };
}
