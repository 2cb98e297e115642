import type { QingCloudApi } from '../api.ts';
import type { JobRef, Vip } from '../types.ts';
import { decodeVip } from './decoders.ts';
import { findActiveJob } from './jobs.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireIntRange, requireList, requireNonEmpty } from './validate.ts';

export interface DescribeVipsFilter {
  /** Required by the API. */
  vxnets: readonly string[];
  vipName?: string;
  vips?: readonly string[];
}

export async function describeVips(api: QingCloudApi, filter: DescribeVipsFilter, options?: PageOptions): Promise<Vip[]> {
  requireList('DescribeVips', 'vxnets', filter.vxnets);
  return listAll(
    api,
    'DescribeVips',
    { vxnets: filter.vxnets, vip_name: filter.vipName, vips: filter.vips },
    'vip_set',
    decodeVip,
    options,
  );
}

export interface AllocateVipsInput {
  vxnetId: string;
  /**
   * Name of the new VIPs. Also what makes a retried allocation safe: after an attempt with an unknown
   * outcome the client looks for VIPs of this name (or a running job for the vxnet) before trying again.
   */
  vipName: string;
  /** Inclusive address range `a-b` inside the vxnet. */
  vipRange?: string;
  count?: number;
}

export async function allocateVips(api: QingCloudApi, input: AllocateVipsInput, signal?: AbortSignal): Promise<JobRef> {
  const action = 'AllocateVips';
  requireNonEmpty(action, 'vxnetId', input.vxnetId);
  requireNonEmpty(action, 'vipName', input.vipName);
  const count = requireIntRange(action, 'count', input.count ?? 1, 1, 65_536);
  return api.call(
    action,
    { vxnet_id: input.vxnetId, vip_name: input.vipName, vip_range: input.vipRange, count },
    {
      signal,
      idempotent: false,
      decode: (r) => ({ jobId: r.str('job_id') }),
      recover: async () => {
        const job = await findActiveJob(api, action, [input.vxnetId], signal);
        if (job) return { jobId: job.jobId };
        const vips = await describeVips(api, { vxnets: [input.vxnetId], vipName: input.vipName }, { signal });
        return vips.length > 0 ? { jobId: undefined } : undefined;
      },
    },
  );
}

export interface ReleaseVipsInput {
  vips: readonly string[];
  /** The vxnet holding them; lets a retried release check whether the first attempt worked. */
  vxnetId?: string;
}

export async function releaseVips(api: QingCloudApi, input: ReleaseVipsInput, signal?: AbortSignal): Promise<JobRef> {
  const action = 'ReleaseVips';
  requireList(action, 'vips', input.vips);
  const vxnetId = input.vxnetId;
  return api.call(
    action,
    { vips: input.vips },
    {
      signal,
      idempotent: false,
      decode: (r) => ({ jobId: r.str('job_id') }),
      recover: async () => {
        const job = await findActiveJob(api, action, input.vips, signal);
        if (job) return { jobId: job.jobId };
        if (vxnetId === undefined) return undefined;
        const left = await describeVips(api, { vxnets: [vxnetId], vips: input.vips }, { signal });
        return left.length === 0 ? { jobId: undefined } : undefined;
      },
    },
  );
}
