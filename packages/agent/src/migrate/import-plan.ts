/**
 * From the Go agent's records to this agent's: the same NICs with the same route tables and bridges (the
 * kernel already has table N, br_N and rule 1536 for them, so keeping the numbers is what lets pods keep
 * their traffic through the upgrade), and the same pods under the handles the IPAM CRDs already hold. Pure:
 * the caller reads the records and the kernel's links and writes the result.
 *
 * @packageDocumentation
 */

import { podHandleId } from '@hostnic/ipam';
import { bridgeName, hostVethName, nicLinkName } from '@hostnic/netlink';
import type { NicRecord, PodRecord } from '../types.ts';
import type { GoNicRecord } from './go-records.ts';

/** Go's `Phase` value for a NIC whose host setup finished. */
const GO_PHASE_SUCCEEDED = 4;

export interface ImportPlan {
  nics: NicRecord[];
  pods: PodRecord[];
  /** Records left out, each with the reason, for the log. */
  skipped: Array<{ what: string; reason: string }>;
}

/** Links of the node by name, with their MACs (for the host veths of imported pods). */
export type LinkMacs = ReadonlyMap<string, string>;

export function planGoImport(records: readonly GoNicRecord[], links: LinkMacs, now: Date): ImportPlan {
  const plan: ImportPlan = { nics: [], pods: [], skipped: [] };
  const createdAt = now.toISOString();
  for (const r of records) {
    const what = `NIC ${r.nicId} on ${r.vxnetId}`;
    if (r.routeTable === undefined) {
      plan.skipped.push({ what, reason: 'the Go agent never gave it a route table; the reconciler sets it up as a new NIC' });
      continue;
    }
    if (!r.network || !r.gateway) {
      plan.skipped.push({ what, reason: 'the record has no vxnet network or gateway; the reconciler describes the vxnet again' });
      continue;
    }
    plan.nics.push({
      nicId: r.nicId,
      vxnet: { vxnetId: r.vxnetId, network: r.network, gateway: r.gateway, tunnelType: r.tunnelType ?? 'vxlan' },
      routeTable: r.routeTable,
      linkName: nicLinkName(r.vxnetId),
      bridge: bridgeName(r.routeTable),
      // Anything but Succeeded is set up again by the repair loop, as the Go agent itself would have.
      phase: r.phase === GO_PHASE_SUCCEEDED ? 'Succeeded' : 'Init',
      createdAt,
      ...(r.pods.length === 0 ? { idleSince: createdAt } : {}),
    });
    for (const p of r.pods) {
      const podWhat = `pod ${p.namespace}/${p.name} (${p.containerId}) at ${p.podIp}`;
      let handleId: string;
      try {
        handleId = podHandleId(p.namespace, p.name, p.containerId).id;
      } catch (err) {
        plan.skipped.push({ what: podWhat, reason: `no IPAM handle can be named for it: ${(err as Error).message}` });
        continue;
      }
      const hostVeth = hostVethName(p.namespace, p.name);
      plan.pods.push({
        containerId: p.containerId,
        ifName: p.ifName,
        podNamespace: p.namespace,
        podName: p.name,
        infraContainerId: p.containerId,
        netns: p.netns,
        handleId,
        ip: p.podIp,
        vxnetId: r.vxnetId,
        nicId: r.nicId,
        hostVeth,
        hostVethMac: links.get(hostVeth) ?? '',
        // The Go agent never stored it; CHECK reads the pod's interface itself.
        podMac: '',
        createdAt,
      });
    }
  }
  return plan;
}
