import type { QingCloudApi } from '../api.ts';
import { IaasClientError, IaasInputError } from '../errors.ts';
import type { CreatedNic, JobRef, Nic } from '../types.ts';
import { decodeCreatedNic, decodeNic } from './decoders.ts';
import { findActiveJob } from './jobs.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireIntRange, requireList, requireNonEmpty } from './validate.ts';

export interface DescribeNicsFilter {
  nics?: readonly string[];
  nicName?: string;
  status?: 'available' | 'in-use';
  vxnets?: readonly string[];
  instances?: readonly string[];
  vxnetType?: readonly number[];
}

export async function describeNics(api: QingCloudApi, filter: DescribeNicsFilter = {}, options?: PageOptions): Promise<Nic[]> {
  return listAll(
    api,
    'DescribeNics',
    {
      nics: filter.nics,
      nic_name: filter.nicName,
      status: filter.status,
      vxnets: filter.vxnets,
      instances: filter.instances,
      vxnet_type: filter.vxnetType,
    },
    'nic_set',
    decodeNic,
    options,
  );
}

export interface CreateNicsInput {
  vxnet: string;
  /**
   * Name given to the NICs. Also what makes a retried create safe: after an attempt with an unknown outcome
   * the client lists the vxnet's NICs of this name and takes the new ones instead of creating more.
   * Without a name such an attempt is not retried.
   */
  nicName?: string;
  /** 1 to 252; defaults to the number of privateIps, else 1. */
  count?: number;
  privateIps?: readonly string[];
  /** No address from the vxnet's DHCP (hostnic's NICs are bridge uplinks; pods get IPs from the IPAM). */
  disableIp?: boolean;
}

export class AmbiguousCreateError extends IaasClientError {
  override name = 'AmbiguousCreateError';
}

export async function createNics(
  api: QingCloudApi,
  input: CreateNicsInput,
  signal?: AbortSignal,
): Promise<CreatedNic[]> {
  const action = 'CreateNics';
  requireNonEmpty(action, 'vxnet', input.vxnet);
  const count = requireIntRange(action, 'count', input.count ?? input.privateIps?.length ?? 1, 1, 252);
  if (input.privateIps !== undefined && input.privateIps.length !== count) {
    throw new IaasInputError(
      action,
      'privateIps',
      `has ${input.privateIps.length} addresses but count is ${count}; they must match`,
    );
  }
  const nicName = input.nicName;
  const sameName = (): Promise<Nic[]> =>
    describeNics(api, { vxnets: [input.vxnet], ...(nicName === undefined ? {} : { nicName }) }, { signal });
  // The snapshot costs one read per create; creates are rare and a duplicate NIC is a leak in the IaaS.
  const before = nicName === undefined ? undefined : new Set((await sameName()).map((n) => n.nicId));
  return api.call(
    action,
    {
      vxnet: input.vxnet,
      nic_name: nicName,
      count,
      private_ips: input.privateIps,
      disable_ip: input.disableIp ? 1 : undefined,
    },
    {
      signal,
      idempotent: false,
      decode: (r) => r.list('nics').map(decodeCreatedNic),
      ...(before === undefined
        ? {}
        : {
            recover: async () => {
              const appeared = (await sameName()).filter((n) => !before.has(n.nicId));
              if (appeared.length === 0) return undefined;
              if (appeared.length !== count) {
                throw new AmbiguousCreateError(
                  `${action}: ${appeared.length} new NIC(s) named ${nicName} appeared in ${input.vxnet} where ` +
                    `${count} were requested; another creator may be using the same name: ` +
                    appeared.map((n) => n.nicId).join(', '),
                );
              }
              return appeared.map((n) => ({ nicId: n.nicId, privateIp: n.privateIp }));
            },
          }),
    },
  );
}

export interface AttachNicsInput {
  nics: readonly string[];
  instance: string;
}

/** Starts attaching NICs to an instance; wait for the returned job before using them. */
export async function attachNics(api: QingCloudApi, input: AttachNicsInput, signal?: AbortSignal): Promise<JobRef> {
  const action = 'AttachNics';
  requireList(action, 'nics', input.nics);
  requireNonEmpty(action, 'instance', input.instance);
  return api.call(
    action,
    { nics: input.nics, instance: input.instance },
    {
      signal,
      idempotent: false,
      decode: (r) => ({ jobId: r.str('job_id') }),
      recover: async () => {
        const job = await findActiveJob(api, action, input.nics, signal);
        if (job) return { jobId: job.jobId };
        const nics = await describeNics(api, { nics: input.nics }, { signal });
        const done =
          nics.length === input.nics.length &&
          nics.every((n) => n.status === 'in-use' && n.instanceId === input.instance);
        return done ? { jobId: undefined } : undefined;
      },
    },
  );
}

/** Starts detaching NICs from whatever instance holds them. */
export async function detachNics(api: QingCloudApi, nics: readonly string[], signal?: AbortSignal): Promise<JobRef> {
  const action = 'DetachNics';
  requireList(action, 'nics', nics);
  return api.call(
    action,
    { nics },
    {
      signal,
      idempotent: false,
      decode: (r) => ({ jobId: r.str('job_id') }),
      recover: async () => {
        const job = await findActiveJob(api, action, nics, signal);
        if (job) return { jobId: job.jobId };
        const found = await describeNics(api, { nics }, { signal });
        return found.every((n) => n.status === 'available') ? { jobId: undefined } : undefined;
      },
    },
  );
}

/** Deletes detached NICs. Synchronous: no job. */
export async function deleteNics(api: QingCloudApi, nics: readonly string[], signal?: AbortSignal): Promise<void> {
  const action = 'DeleteNics';
  requireList(action, 'nics', nics);
  await api.call(
    action,
    { nics },
    {
      signal,
      idempotent: false,
      decode: () => undefined,
      recover: async () => {
        const left = await describeNics(api, { nics }, { signal });
        return left.length === 0 ? null : undefined;
      },
    },
  );
}

