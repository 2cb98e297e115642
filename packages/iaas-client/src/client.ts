import { QingCloudApi, type QingCloudApiOptions } from './api.ts';
import * as jobs from './actions/jobs.ts';
import * as misc from './actions/misc.ts';
import * as nics from './actions/nics.ts';
import type { PageOptions } from './actions/paging.ts';
import * as sg from './actions/security-groups.ts';
import * as vips from './actions/vips.ts';
import * as vxnets from './actions/vxnets.ts';
import { loadConfig, type IaasConfig } from './config.ts';
import { IaasClientError } from './errors.ts';
import type {
  AccessKey,
  Cluster,
  ClusterNode,
  CreatedNic,
  Job,
  JobRef,
  Nic,
  SecurityGroupRule,
  Vip,
  Vxnet,
} from './types.ts';

export type IaasClientOptions = QingCloudApiOptions;

export class IdentityError extends IaasClientError {
  override name = 'IdentityError';
}

/**
 * The QingCloud API with typed actions. Reads page for the caller; writes are retried only where a
 * retry cannot create a second resource (see each method). Close it to release its sockets.
 */
export class IaasClient {
  readonly api: QingCloudApi;

  constructor(options: IaasClientOptions) {
    this.api = new QingCloudApi(options);
  }

  /** A client from a config.yaml file, e.g. `/root/.qingcloud/config.yaml`. */
  static async fromConfigFile(file: string, options: Omit<IaasClientOptions, 'config'> = {}): Promise<IaasClient> {
    return new IaasClient({ ...options, config: await loadConfig(file) });
  }

  get config(): IaasConfig {
    return this.api.config;
  }

  /**
   * The owner (user id) of the configured access key. Doubles as the start-up check that the
   * credentials, endpoint and clock are right: it fails with the API's own error otherwise.
   */
  async whoAmI(signal?: AbortSignal): Promise<string> {
    const id = this.config.credentials.accessKeyId;
    const keys = await misc.describeAccessKeys(this.api, [id], { signal });
    const key = keys.find((k) => k.accessKeyId === id) ?? keys[0];
    if (!key) throw new IdentityError(`DescribeAccessKeys: access key ${id} is not known to the API`);
    return key.owner;
  }

  describeAccessKeys(accessKeys: readonly string[], options?: PageOptions): Promise<AccessKey[]> {
    return misc.describeAccessKeys(this.api, accessKeys, options);
  }

  describeNics(filter?: nics.DescribeNicsFilter, options?: PageOptions): Promise<Nic[]> {
    return nics.describeNics(this.api, filter, options);
  }

  createNics(input: nics.CreateNicsInput, signal?: AbortSignal): Promise<CreatedNic[]> {
    return nics.createNics(this.api, input, signal);
  }

  attachNics(input: nics.AttachNicsInput, signal?: AbortSignal): Promise<JobRef> {
    return nics.attachNics(this.api, input, signal);
  }

  detachNics(nicIds: readonly string[], signal?: AbortSignal): Promise<JobRef> {
    return nics.detachNics(this.api, nicIds, signal);
  }

  deleteNics(nicIds: readonly string[], signal?: AbortSignal): Promise<void> {
    return nics.deleteNics(this.api, nicIds, signal);
  }

  describeJobs(filter: jobs.DescribeJobsFilter, options?: PageOptions): Promise<Job[]> {
    return jobs.describeJobs(this.api, filter, options);
  }

  /** A pending or working job of `jobAction` touching any of `resourceIds` (e.g. one submitted before a restart). */
  findActiveJob(jobAction: string, resourceIds: readonly string[], signal?: AbortSignal): Promise<Job | undefined> {
    return jobs.findActiveJob(this.api, jobAction, resourceIds, signal);
  }

  waitJob(jobId: string, options?: jobs.WaitJobOptions): Promise<jobs.JobOutcome> {
    return jobs.waitJob(this.api, jobId, options);
  }

  describeVxnets(filter?: vxnets.DescribeVxnetsFilter, options?: PageOptions): Promise<Vxnet[]> {
    return vxnets.describeVxnets(this.api, filter, options);
  }

  describeVxnetsByIds(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Vxnet>> {
    return vxnets.describeVxnetsByIds(this.api, ids, signal);
  }

  attachTags(pairs: readonly misc.ResourceTagPair[], signal?: AbortSignal): Promise<void> {
    return misc.attachTags(this.api, pairs, signal);
  }

  describeVips(filter: vips.DescribeVipsFilter, options?: PageOptions): Promise<Vip[]> {
    return vips.describeVips(this.api, filter, options);
  }

  allocateVips(input: vips.AllocateVipsInput, signal?: AbortSignal): Promise<JobRef> {
    return vips.allocateVips(this.api, input, signal);
  }

  releaseVips(input: vips.ReleaseVipsInput, signal?: AbortSignal): Promise<JobRef> {
    return vips.releaseVips(this.api, input, signal);
  }

  describeSecurityGroupRules(
    filter: sg.DescribeSecurityGroupRulesFilter,
    options?: PageOptions,
  ): Promise<SecurityGroupRule[]> {
    return sg.describeSecurityGroupRules(this.api, filter, options);
  }

  addSecurityGroupRules(input: sg.AddSecurityGroupRulesInput, signal?: AbortSignal): Promise<string[]> {
    return sg.addSecurityGroupRules(this.api, input, signal);
  }

  applySecurityGroup(
    securityGroup: string,
    options?: { instances?: readonly string[]; signal?: AbortSignal },
  ): Promise<JobRef> {
    return sg.applySecurityGroup(this.api, securityGroup, options);
  }

  deleteSecurityGroupRules(rules: readonly string[], signal?: AbortSignal): Promise<void> {
    return sg.deleteSecurityGroupRules(this.api, rules, signal);
  }

  describeClusters(clusters: readonly string[], options?: PageOptions): Promise<Cluster[]> {
    return misc.describeClusters(this.api, clusters, options);
  }

  describeClusterNodes(cluster: string, options?: PageOptions): Promise<ClusterNode[]> {
    return misc.describeClusterNodes(this.api, cluster, options);
  }

  close(): Promise<void> {
    return this.api.close();
  }
}
