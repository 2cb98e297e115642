/**
 * The sandbox's network: a VPC with nodes on one Linux machine, made of network namespaces, with a fake
 * QingCloud whose NIC attachments become real interfaces. Tests and the demo run hostnic's agent in it.
 */

export { startSandboxNetwork } from './network.ts';
export { createHostHook, HostHookError } from './host-hook.ts';
export type { HostEventHandler, SandboxHostHook } from './host-hook.ts';
export { sweepOrphans, sweepStale } from './sweep.ts';
export type { SweepOptions, SweepResult } from './sweep.ts';
export { SandboxCleanupError, SandboxClosedError } from './teardown.ts';
export { DEFAULT_VXNETS } from './vxnets.ts';
export { randomPrefix, validatePrefix } from './names.ts';
export type {
  ExecInNamespaceOptions,
  NamespaceRef,
  NodePaths,
  PingOptions,
  PodNamespace,
  SandboxNetwork,
  SandboxNetworkOptions,
  SandboxNode,
  SandboxVxnet,
  VxnetOption,
} from './types.ts';
