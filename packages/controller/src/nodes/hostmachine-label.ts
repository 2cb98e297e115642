/**
 * The node label `topology.kubernetes.io/hostmachine`, kept from the IaaS host each node's instance runs on
 * (the original's node-patch tool, run by hand there). Opt-in (`--hostmachine-label`): the label lets
 * workloads spread across physical hosts with topologySpreadConstraints or anti-affinity.
 */
import type { Node } from '../kube/objects.ts';
import type { ClusterNode } from '@hostnic/iaas-client';
import { errorText } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import { resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import { instanceIdOfNode } from '../cleanup/node-identity.ts';

export const HOSTMACHINE_LABEL = 'topology.kubernetes.io/hostmachine';

/** A label value: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` inside. */
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

export interface HostMachineChange {
  readonly node: string;
  readonly from: string | undefined;
  readonly to: string;
}

export interface HostMachinePlan {
  readonly changes: readonly HostMachineChange[];
  /** Nodes whose instance the cluster's node list does not name, or whose host is no label value. */
  readonly unmatched: readonly { readonly node: string; readonly reason: string }[];
}

/**
 * Pure: the label each node should carry. A node is matched to its IaaS node by instance id, else (as the
 * original did) by an InternalIP equal to the instance's private IP. Nodes already right are left out.
 */
export function hostMachinePlan(nodes: readonly Node[], clusterNodes: readonly ClusterNode[]): HostMachinePlan {
  const byInstance = new Map(clusterNodes.map((n) => [n.instanceId, n]));
  const byIp = new Map(clusterNodes.filter((n) => n.privateIp !== '').map((n) => [n.privateIp, n]));
  const changes: HostMachineChange[] = [];
  const unmatched: { node: string; reason: string }[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (name === undefined) continue;
    const instance = instanceIdOfNode(node);
    const ips = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    const match = (instance === undefined ? undefined : byInstance.get(instance)) ?? ips.map((ip) => byIp.get(ip)).find((n) => n !== undefined);
    if (match === undefined) {
      unmatched.push({ node: name, reason: `no node of the QingCloud cluster has instance ${instance ?? '(unknown)'} or private IP ${ips.join(', ') || '(none)'}` });
      continue;
    }
    if (!LABEL_VALUE.test(match.hostMachine)) {
      unmatched.push({ node: name, reason: `host machine ${JSON.stringify(match.hostMachine)} of ${match.instanceId} is not a label value` });
      continue;
    }
    const current = node.metadata?.labels?.[HOSTMACHINE_LABEL];
    if (current !== match.hostMachine) changes.push({ node: name, from: current, to: match.hostMachine });
  }
  return { changes, unmatched };
}

export interface HostMachineLabelerOptions {
  readonly iaas: { describeClusterNodes(cluster: string, options?: { signal?: AbortSignal }): Promise<ClusterNode[]> };
  readonly client: Pick<KubeClient, 'patch'>;
  /** The nodes as the informer holds them. */
  readonly nodes: () => readonly Node[];
  /** The QKE cluster id of clusterconfig (qingcloud.yaml `clusterID`). */
  readonly clusterId: () => string | undefined;
  readonly log: Logger;
}

export class HostMachineLabeler {
  readonly #o: HostMachineLabelerOptions;
  #warnedNoCluster = false;

  constructor(options: HostMachineLabelerOptions) {
    this.#o = options;
  }

  /** One pass: reads the cluster's nodes from the IaaS and patches the labels that differ. */
  async run(signal?: AbortSignal): Promise<{ labelled: HostMachineChange[]; unmatched: HostMachinePlan['unmatched']; failed: string[] }> {
    const o = this.#o;
    const clusterId = o.clusterId();
    if (clusterId === undefined || clusterId === '') {
      if (!this.#warnedNoCluster) o.log.warn(`--hostmachine-label needs clusterID in ConfigMap kube-system/clusterconfig (qingcloud.yaml) to list the cluster's instances; ${HOSTMACHINE_LABEL} is not kept`);
      this.#warnedNoCluster = true;
      return { labelled: [], unmatched: [], failed: [] };
    }
    this.#warnedNoCluster = false;
    const plan = hostMachinePlan(o.nodes(), await o.iaas.describeClusterNodes(clusterId, signal === undefined ? {} : { signal }));
    const labelled: HostMachineChange[] = [];
    const failed: string[] = [];
    for (const c of plan.changes) {
      try {
        await o.client.patch(resourcePath({ version: 'v1', plural: 'nodes', name: c.node }), { metadata: { labels: { [HOSTMACHINE_LABEL]: c.to } } }, 'merge', { signal, timeoutMs: 30_000 });
        labelled.push(c);
      } catch (e) {
        failed.push(`${c.node}: ${errorText(e)}`);
      }
    }
    if (labelled.length > 0) o.log.info('host machine labels set', { label: HOSTMACHINE_LABEL, labelled });
    if (plan.unmatched.length + failed.length > 0) o.log.warn('host machine labels not set on some nodes', { unmatched: plan.unmatched, failed });
    return { labelled, unmatched: plan.unmatched, failed };
  }
}
