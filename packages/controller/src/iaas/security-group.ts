/**
 * Which security group gets the vxnets' rules (spec ipam-controller 4.3 step 4): on QKE clusters the
 * cluster's own group, looked up by `clusterID` (and refreshed, since QKE may replace it), else the
 * `securityGroup` of the cluster config; neither means a non-QKE cluster, where no rule is needed.
 */
import type { IaasClient } from '@hostnic/iaas-client';

export interface SecurityGroupSource {
  /** The group to use now; undefined when the cluster needs no rule. */
  current(signal?: AbortSignal): Promise<string | undefined>;
}

export interface ClusterSecurityGroupOptions {
  readonly iaas: IaasClient;
  readonly clusterId?: string | undefined;
  readonly securityGroup?: string | undefined;
  /** How long a looked-up group is trusted (default 60 s). */
  readonly refreshMs?: number;
  readonly now?: () => number;
}

export function clusterSecurityGroup(options: ClusterSecurityGroupOptions): SecurityGroupSource {
  const configured = options.securityGroup === '' ? undefined : options.securityGroup;
  const clusterId = options.clusterId === '' ? undefined : options.clusterId;
  if (clusterId === undefined) return { current: () => Promise.resolve(configured) };
  const refreshMs = options.refreshMs ?? 60_000;
  const now = options.now ?? Date.now;
  // The lookup itself is cached, so that callers arriving while it runs share it instead of asking again.
  let cached: { value: Promise<string | undefined>; at: number } | undefined;
  const lookup = async (signal: AbortSignal | undefined): Promise<string | undefined> => {
    const clusters = await options.iaas.describeClusters([clusterId], { signal });
    const found = clusters.find((c) => c.clusterId === clusterId);
    // A cluster the API does not return (deleted, other zone) leaves the configured group, as the original did.
    return found?.securityGroupId !== undefined && found.securityGroupId !== '' ? found.securityGroupId : configured;
  };
  return {
    current(signal) {
      if (cached !== undefined && now() - cached.at < refreshMs) return cached.value;
      const entry = { value: lookup(signal), at: now() };
      cached = entry;
      // A failed lookup is not kept: the next caller asks again.
      entry.value.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return entry.value;
    },
  };
}
