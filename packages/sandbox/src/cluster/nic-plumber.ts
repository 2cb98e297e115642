/**
 * Makes attached NICs real: a veth per NIC whose node end appears in the instance's namespace with the
 * NIC's MAC (the agent finds it by MAC and renames it) and whose vpc end joins the vxnet's bridge.
 */

import type { HostEvent } from '@hostnic/iaas-client/fake';
import type { Netns } from '@hostnic/netlink';
import { applyBatchOrThrow, deleteLink, findLinksByMac, linkSetOp, normalizeMac, vethAddOp } from '@hostnic/netlink';
import { MAX_NIC_COUNTER } from './names.ts';
import type { SandboxNames } from './names.ts';
import { requireOwnNetns } from './owned-netns.ts';
import { describeError } from './teardown.ts';

/** What the plumber needs to know about the sandbox. */
export interface PlumbingTarget {
  readonly names: SandboxNames;
  readonly vpc: Netns;
  nodeNetns(instanceId: string): Netns | undefined;
  bridge(vxnetId: string): string | undefined;
}

interface NicLink {
  readonly vpcEnd: string;
  readonly nodeEnd: string;
  readonly node: Netns;
}

function macOf(nicId: string): string {
  const mac = normalizeMac(nicId);
  if (mac === undefined) throw new Error(`NIC id ${nicId} is not a MAC address`);
  return mac;
}

export class NicPlumber {
  readonly #target: PlumbingTarget;
  /** By MAC: the veths made for NICs that are attached now. */
  readonly #links = new Map<string, NicLink>();
  #counter = 0;

  constructor(target: PlumbingTarget) {
    this.#target = target;
  }

  async handle(event: HostEvent): Promise<void> {
    if (event.event === 'nic-attached') await this.attach(event);
    else await this.detach(event);
  }

  async attach(event: HostEvent): Promise<void> {
    const mac = macOf(event.nicId);
    // A second attach without a detach in between must not make a second link with the same MAC.
    if (this.#links.has(mac)) return;
    const node = this.#target.nodeNetns(event.instanceId);
    if (!node) throw new Error(`instance ${event.instanceId} is not a node of this sandbox`);
    const bridge = this.#target.bridge(event.vxnetId);
    if (bridge === undefined) throw new Error(`vxnet ${event.vxnetId} has no bridge in this sandbox`);
    if (this.#counter >= MAX_NIC_COUNTER) throw new Error('too many NICs attached over this sandbox\'s life');
    this.#counter++;
    const { names, vpc } = this.#target;
    const link: NicLink = { vpcEnd: names.nicVpcEnd(this.#counter), nodeEnd: names.nicNodeEnd(this.#counter), node };
    try {
      // Created from the vpc side so that nothing ever exists in the caller's namespace; the node end
      // stays down, as a hot-plugged NIC arrives.
      await applyBatchOrThrow(
        [
          vethAddOp({ name: link.vpcEnd, peerName: link.nodeEnd, peerMac: mac, peerNetns: node }),
          linkSetOp(link.vpcEnd, { master: bridge, up: true }),
        ],
        { netns: requireOwnNetns(vpc) },
      );
    } catch (err) {
      await deleteLink(link.vpcEnd, { netns: vpc }).catch(() => undefined);
      throw err;
    }
    this.#links.set(mac, link);
  }

  async detach(event: HostEvent): Promise<void> {
    const mac = macOf(event.nicId);
    const link = this.#links.get(mac);
    if (link) {
      await deleteLink(link.vpcEnd, { netns: requireOwnNetns(this.#target.vpc) });
      this.#links.delete(mac);
      return;
    }
    // Not made by this plumber (e.g. attached before it was bound): find the veth by MAC in the node. The
    // bridge the agent built shares the MAC, so only the veth is taken.
    const node = this.#target.nodeNetns(event.instanceId);
    if (!node) throw new Error(`instance ${event.instanceId} is not a node of this sandbox`);
    const links = await findLinksByMac(mac, { netns: requireOwnNetns(node) });
    const veth = links.find((l) => l.kind === 'veth');
    if (veth) await deleteLink(veth.name, { netns: node });
  }

  /** Removes the veths of all NICs still attached; resolves with what failed. */
  async removeAll(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const [mac, link] of [...this.#links].reverse()) {
      try {
        await deleteLink(link.vpcEnd, { netns: requireOwnNetns(this.#target.vpc) });
        this.#links.delete(mac);
      } catch (err) {
        errors.push(new Error(`cleanup: delete NIC veth ${link.vpcEnd} (${mac}): ${describeError(err)}`, { cause: err }));
      }
    }
    return errors;
  }
}
