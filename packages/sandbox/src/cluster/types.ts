/**
 * The public shapes of the sandbox network: what it is asked for and what it hands back.
 */

import type { ExecResult, Netns } from '@hostnic/netlink';
import type { FakeQingCloud, FakeQingCloudOptions, TunnelType } from '@hostnic/iaas-client/fake';
import type { HostHookError, SandboxHostHook } from './host-hook.ts';

/** A vxnet of the VPC, as asked for. */
export interface VxnetOption {
  /** `vxnet-` and lower-case letters or digits, as QingCloud spells them. */
  readonly id: string;
  /** The vxnet's network, e.g. `172.16.3.0/24`; the gateway is its first host. */
  readonly cidr: string;
  /** The nodes' eth0 live on it. Exactly one vxnet must be the management vxnet. */
  readonly management?: boolean | undefined;
  /** Default `vxlan`. */
  readonly tunnelType?: TunnelType | undefined;
}

export interface SandboxNetworkOptions {
  /** Put into every namespace, link and directory name. Default: random, e.g. `hs3f9a`. */
  readonly prefix?: string | undefined;
  /** Default: a management vxnet 10.100.0.0/24 and pod vxnets 172.16.3.0/24 and 172.16.4.0/24 (vlan). */
  readonly vxnets?: readonly VxnetOption[] | undefined;
  /** Number of nodes, `node-1..N`. Default 2. */
  readonly nodes?: number | undefined;
  /** Instance ids of the nodes in order; missing ones are random. */
  readonly instanceIds?: readonly string[] | undefined;
  /** Where the sandbox's directory `<prefix>-sandbox` goes. Default: the OS temporary directory. */
  readonly baseDir?: string | undefined;
  /**
   * A fake QingCloud to register vxnets and instances in. Without it one is started (with the sandbox's
   * host hook) and closed by `close()`. One given here should have been started with `hostHook.handler`
   * of the `hostHook` below; otherwise its events are followed through `onHostEvent`, which the fake does
   * not wait for (the link may appear just after the attach job succeeded).
   */
  readonly qingcloud?: FakeQingCloud | undefined;
  /** The hook the given `qingcloud` was started with (see {@link createHostHook}). */
  readonly hostHook?: SandboxHostHook | undefined;
  /** Options of the fake started when `qingcloud` is absent. */
  readonly fakeOptions?: Omit<FakeQingCloudOptions, 'hostHook'> | undefined;
  /** Told about every failed host event (they are never thrown into the fake). */
  readonly onHookError?: ((error: HostHookError) => void) | undefined;
}

/** A vxnet as built: a bridge in the vpc namespace carrying the gateway address. */
export interface SandboxVxnet {
  readonly id: string;
  /** Normalised network, e.g. `172.16.3.0/24`. */
  readonly cidr: string;
  readonly prefixLength: number;
  readonly gateway: string;
  /** The bridge in the vpc namespace. */
  readonly bridge: string;
  readonly tunnelType: TunnelType;
  readonly management: boolean;
  /** VLAN vxnets: the addresses the sandbox's DHCP server (dnsmasq in the VPC namespace) hands out. */
  readonly dhcpRange?: { readonly start: string; readonly end: string } | undefined;
}

/** The paths an agent of this node uses instead of the real ones. */
export interface NodePaths {
  readonly root: string;
  /** Holds the instance id, like /etc/qingcloud/instance-id. */
  readonly instanceIdFile: string;
  /** /var/lib/hostnic */
  readonly stateDir: string;
  /** /var/run/hostnic */
  readonly runDir: string;
  /** /var/run/hostnic/hostnic.socket */
  readonly socket: string;
  /** /opt/cni/bin */
  readonly cniBinDir: string;
  /** /etc/cni/net.d */
  readonly cniConfDir: string;
}

export interface SandboxNode {
  /** `node-1`, ... */
  readonly name: string;
  readonly index: number;
  /** The namespace's name, e.g. `hs3f9a-node-1`. */
  readonly netnsName: string;
  readonly netns: Netns;
  readonly instanceId: string;
  /** MAC of eth0, which is also the id of the instance's primary NIC. */
  readonly mac: string;
  /** eth0's address on the management vxnet. */
  readonly ip: string;
  /** eth0's address with the vxnet's prefix length. */
  readonly cidr: string;
  readonly gateway: string;
  readonly paths: NodePaths;
}

/** A pod's namespace, made by {@link SandboxNetwork.podNetns}. */
export interface PodNamespace {
  readonly node: string;
  readonly pod: string;
  /** The namespace's name. */
  readonly name: string;
  readonly path: string;
  readonly netns: Netns;
  /** Removes it now rather than at `close()`. */
  remove(): Promise<void>;
}

/** A namespace to run something in: `vpc`, a node name, a pod namespace's full name, or a Netns. */
export type NamespaceRef = string | Netns | PodNamespace;

export interface ExecInNamespaceOptions {
  readonly input?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface PingOptions {
  /** Tries of `ping -c1 -W1`; default 1. */
  readonly attempts?: number | undefined;
  /** How long one try's process may run before it counts as unanswered; default 5000 ms. */
  readonly processTimeoutMs?: number | undefined;
}

export interface SandboxNetwork {
  readonly prefix: string;
  /** The sandbox's directory; node trees are below it. */
  readonly directory: string;
  readonly qingcloud: FakeQingCloud;
  readonly vpc: { readonly name: string; readonly netns: Netns };
  readonly vxnets: readonly SandboxVxnet[];
  readonly managementVxnet: SandboxVxnet;
  readonly nodes: readonly SandboxNode[];
  /** @throws Error for an unknown name. */
  node(name: string): SandboxNode;
  nodeByInstance(instanceId: string): SandboxNode | undefined;
  /** @throws Error for an unknown id. */
  vxnet(id: string): SandboxVxnet;
  /** Runs argv inside a namespace; a non-zero exit is a result, not an error. */
  exec(ns: NamespaceRef, argv: readonly string[], options?: ExecInNamespaceOptions): Promise<ExecResult>;
  /** Whether `ip` answers an ICMP echo from inside `ns` (bounded: -c1 -W1 per attempt). */
  ping(ns: NamespaceRef, ip: string, options?: PingOptions): Promise<boolean>;
  /** Whether the VPC router itself reaches `ip` (a pod IP, directly, without NAT). */
  vpcPing(ip: string, options?: PingOptions): Promise<boolean>;
  /** Creates the namespace of pod `name` on `node` (loopback up); removed on close. */
  podNetns(node: string, name: string): Promise<PodNamespace>;
  /** Host events that failed so far. */
  hookErrors(): readonly HostHookError[];
  /** Removes everything it made, newest first; throws SandboxCleanupError after trying all when some failed. */
  close(): Promise<void>;
}
