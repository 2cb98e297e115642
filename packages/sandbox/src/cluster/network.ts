/**
 * startSandboxNetwork: the VPC, its vxnets and the nodes on one machine, wired to a fake QingCloud so that
 * attaching a NIC there makes a real interface appear in the node.
 */

import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import { startFakeQingCloud } from '@hostnic/iaas-client/fake';
import type { ExecResult, Netns } from '@hostnic/netlink';
import { execInNetns, pingFromNetns } from './exec.ts';
import type { HostHookError, SandboxHostHook } from './host-hook.ts';
import { createHostHook } from './host-hook.ts';
import type { SandboxNames } from './names.ts';
import { randomInstanceId, randomPrefix, sandboxNames } from './names.ts';
import { NicPlumber } from './nic-plumber.ts';
import { createNode } from './nodes.ts';
import { requireOwnNetns } from './owned-netns.ts';
import { createPodNetns } from './pods.ts';
import { Teardown, throwIfAny } from './teardown.ts';
import { writeOwner } from './sweep.ts';
import type {
  ExecInNamespaceOptions,
  NamespaceRef,
  PingOptions,
  PodNamespace,
  SandboxNetwork,
  SandboxNetworkOptions,
  SandboxNode,
  SandboxVxnet,
} from './types.ts';
import { startDhcpServer, type DhcpServer } from './dhcp-server.ts';
import { createVpcNetns, createVxnetBridge } from './vpc.ts';
import type { VxnetPlan } from './vxnets.ts';
import { DEFAULT_VXNETS, fakeVxnetInput, managementOf, nodeAddresses, planVxnets, publicVxnet } from './vxnets.ts';

const INSTANCE_ID = /^i-[a-z0-9]+$/;

function planInstanceIds(count: number, given: readonly string[] | undefined): string[] {
  if (given !== undefined && given.length > count) throw new Error(`${given.length} instance ids for ${count} nodes`);
  const ids = Array.from({ length: count }, (_, i) => given?.[i] ?? randomInstanceId());
  for (const id of ids) {
    if (!INSTANCE_ID.test(id)) throw new Error(`invalid instance id "${id}": expected i-xxxxxxxx`);
  }
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate instance ids: ${ids.join(', ')}`);
  return ids;
}

function checkNodeCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 250) throw new Error(`nodes must be an integer from 1 to 250, got ${count}`);
  return count;
}

/**
 * Builds the sandbox. On any failure everything made so far is removed before the error propagates (the
 * cleanup's own failures, if any, are attached as the error's `cleanupErrors`). Records added to a fake
 * QingCloud given in `options.qingcloud` stay there.
 */
export async function startSandboxNetwork(options: SandboxNetworkOptions = {}): Promise<SandboxNetwork> {
  // Everything that can be checked without the kernel is checked first: a bad option then leaves
  // nothing to clean up.
  const names = sandboxNames(options.prefix ?? randomPrefix());
  const nodeCount = checkNodeCount(options.nodes ?? 2);
  const plans = planVxnets(options.vxnets ?? DEFAULT_VXNETS, names);
  const management = managementOf(plans);
  const addresses = nodeAddresses(management, nodeCount);
  const instanceIds = planInstanceIds(nodeCount, options.instanceIds);
  const directory = join(options.baseDir ?? tmpdir(), names.directory);

  const teardown = new Teardown();
  const hook = options.hostHook ?? createHostHook();
  try {
    const qingcloud = await connectQingCloud(options, hook, teardown);
    if (options.onHookError) {
      const unsubscribe = hook.onError(options.onHookError);
      teardown.push('stop reporting host hook errors', () => Promise.resolve(unsubscribe()));
    }
    await createSandboxDir(directory, names.prefix);
    teardown.push(`remove ${directory}`, () => rm(directory, { recursive: true, force: true }));

    const vpc = await createVpcNetns(names.vpcNetns, teardown);
    const dhcp = new Map<string, DhcpServer>();
    for (const plan of plans) {
      await createVxnetBridge(vpc, plan, teardown);
      qingcloud.addVxnet(fakeVxnetInput(plan));
      // QingCloud serves DHCP on VLAN vxnets; the agent gets its bridge's address from it.
      if (plan.tunnelType === 'vlan' && !plan.management) dhcp.set(plan.id, await startDhcpServer(vpc, plan, { directory, teardown }));
    }
    const nodes: SandboxNode[] = [];
    const ctx = { names, vpc, management, directory, qingcloud, teardown };
    for (const [i, ip] of addresses.entries()) {
      const instanceId = instanceIds[i];
      if (instanceId === undefined) throw new Error(`no instance id for node ${i + 1}`);
      nodes.push(await createNode(ctx, { index: i + 1, instanceId, ip }));
    }

    const plumber = new NicPlumber({
      names,
      vpc,
      nodeNetns: (instanceId) => nodes.find((n) => n.instanceId === instanceId)?.netns,
      bridge: (vxnetId) => plans.find((p) => p.id === vxnetId)?.bridge,
    });
    hook.bind(plumber);
    teardown.push('unbind the host hook and remove attached NICs', async () => {
      hook.bind(undefined);
      await hook.idle();
      throwIfAny(await plumber.removeAll(), 'some NIC veths could not be removed');
    });
    return new Sandbox({ names, directory, qingcloud, vpc, plans, dhcp, nodes, hook, teardown });
  } catch (err) {
    const cleanupErrors = await teardown.run();
    if (cleanupErrors.length > 0 && err instanceof Error) Object.assign(err, { cleanupErrors });
    throw err;
  }
}

/** Not recursive: an existing directory belongs to another run, or to a crashed one (see sweepStale). */
async function createSandboxDir(directory: string, prefix: string): Promise<void> {
  try {
    await mkdir(directory, { mode: 0o755 });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
      throw new Error(`${directory} already exists: another sandbox uses prefix ${prefix}, or sweepStale('${prefix}') is due`, { cause: err });
    }
    throw err;
  }
  // Who made it: a run killed before its teardown (a cancelled CI task) is found by sweepOrphans.
  await writeOwner(directory);
}

async function connectQingCloud(options: SandboxNetworkOptions, hook: SandboxHostHook, teardown: Teardown): Promise<FakeQingCloud> {
  const given = options.qingcloud;
  if (given) {
    if (!options.hostHook) {
      // Not awaited by the fake: the best there is for a fake started without our hook.
      const unfollow = given.onHostEvent((event) => {
        void hook.handler(event);
      });
      teardown.push('stop following host events', () => Promise.resolve(unfollow()));
    }
    return given;
  }
  const fake = await startFakeQingCloud({ ...options.fakeOptions, hostHook: hook.handler });
  teardown.push('close the fake QingCloud', () => fake.close());
  return fake;
}

interface SandboxParts {
  readonly names: SandboxNames;
  readonly directory: string;
  readonly qingcloud: FakeQingCloud;
  readonly vpc: Netns;
  readonly plans: readonly VxnetPlan[];
  readonly dhcp: ReadonlyMap<string, DhcpServer>;
  readonly nodes: readonly SandboxNode[];
  readonly hook: SandboxHostHook;
  readonly teardown: Teardown;
}

class Sandbox implements SandboxNetwork {
  readonly prefix: string;
  readonly directory: string;
  readonly qingcloud: FakeQingCloud;
  readonly vpc: { readonly name: string; readonly netns: Netns };
  readonly vxnets: readonly SandboxVxnet[];
  readonly managementVxnet: SandboxVxnet;
  readonly nodes: readonly SandboxNode[];
  readonly #names: SandboxNames;
  readonly #hook: SandboxHostHook;
  readonly #teardown: Teardown;
  readonly #pods = new Map<string, PodNamespace>();
  #closing: Promise<void> | undefined;

  constructor(parts: SandboxParts) {
    this.prefix = parts.names.prefix;
    this.directory = parts.directory;
    this.qingcloud = parts.qingcloud;
    this.vpc = { name: parts.names.vpcNetns, netns: parts.vpc };
    this.vxnets = parts.plans.map((p) => {
      const server = parts.dhcp.get(p.id);
      return server ? { ...publicVxnet(p), dhcpRange: server.range } : publicVxnet(p);
    });
    this.managementVxnet = publicVxnet(managementOf(parts.plans));
    this.nodes = parts.nodes;
    this.#names = parts.names;
    this.#hook = parts.hook;
    this.#teardown = parts.teardown;
  }

  node(name: string): SandboxNode {
    const node = this.nodes.find((n) => n.name === name || n.netnsName === name);
    if (!node) throw new Error(`no node ${name} in sandbox ${this.prefix} (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  nodeByInstance(instanceId: string): SandboxNode | undefined {
    return this.nodes.find((n) => n.instanceId === instanceId);
  }

  vxnet(id: string): SandboxVxnet {
    const vxnet = this.vxnets.find((v) => v.id === id);
    if (!vxnet) throw new Error(`no vxnet ${id} in sandbox ${this.prefix}`);
    return vxnet;
  }

  exec(ns: NamespaceRef, argv: readonly string[], options?: ExecInNamespaceOptions): Promise<ExecResult> {
    return execInNetns(this.#resolve(ns), argv, options);
  }

  ping(ns: NamespaceRef, ip: string, options?: PingOptions): Promise<boolean> {
    return pingFromNetns(this.#resolve(ns), ip, options);
  }

  vpcPing(ip: string, options?: PingOptions): Promise<boolean> {
    return pingFromNetns(this.vpc.netns, ip, options);
  }

  async podNetns(node: string, name: string): Promise<PodNamespace> {
    const nodeName = this.node(node).name;
    const pod = await createPodNetns(this.#names, nodeName, name, this.#teardown);
    const tracked: PodNamespace = {
      ...pod,
      remove: async () => {
        await pod.remove();
        this.#pods.delete(pod.name);
      },
    };
    this.#pods.set(pod.name, tracked);
    return tracked;
  }

  hookErrors(): readonly HostHookError[] {
    return this.#hook.errors();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    throwIfAny(await this.#teardown.run(), `sandbox ${this.prefix}: cleanup failed`);
  }

  #resolve(ref: NamespaceRef): Netns {
    if (typeof ref !== 'string') return requireOwnNetns('kind' in ref ? ref : ref.netns);
    if (ref === 'vpc' || ref === this.vpc.name) return this.vpc.netns;
    const node = this.nodes.find((n) => n.name === ref || n.netnsName === ref);
    if (node) return node.netns;
    const pod = this.#pods.get(ref);
    if (pod) return pod.netns;
    throw new Error(`no namespace ${ref} in sandbox ${this.prefix}`);
  }
}
