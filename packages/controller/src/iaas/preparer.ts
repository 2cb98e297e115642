/**
 * IaaS preparation of the pool's vxnets (spec ipam-controller 4.2 step 2, 4.3, qingcloud-api 4.6): describe
 * each vxnet and derive its pod range, pin the range with VIPs named `hostnic_<vxnet>` so the IaaS DHCP never
 * hands it out, and on QKE clusters add the security-group rule that lets the vxnet's CIDR in.
 *
 * Unlike the original, every step is decided from what the IaaS shows now (described before anything is
 * created, so a restart never allocates VIPs or rules twice), jobs are polled (a failed job is retried
 * instead of staying pending forever), vxnets are refreshed periodically, and one failing vxnet does not
 * hold back the others.
 */
import type { IaasClient, Job, Vxnet } from '@hostnic/iaas-client';
import { podRangeOfVxnet } from '@hostnic/ipam';
import type { VxNetPodRange } from '@hostnic/ipam';
import type { Fence } from '../fence.ts';
import { noFailpoint } from '../failpoints.ts';
import type { ControllerFailpoint } from '../failpoints.ts';
import type { Logger } from '@hostnic/runtime';
import { errorText, silentLogger } from '@hostnic/runtime';
import { hostnicNameOf } from './names.ts';
import type { SecurityGroupSource } from './security-group.ts';
import { iaasInfoOf } from './vxnet-info.ts';

/** Why a vxnet is or is not ready; stable words for conditions, events and metrics. */
export const PrepReason = {
  Ready: 'Ready',
  VxnetNotFound: 'VxnetNotFound',
  VxnetInvalid: 'VxnetInvalid',
  VipsPending: 'VipsPending',
  VipsFailed: 'VipsFailed',
  SecurityGroupRulePending: 'SecurityGroupRulePending',
  SecurityGroupRuleFailed: 'SecurityGroupRuleFailed',
  IaasError: 'IaasError',
} as const;
export type PrepReason = (typeof PrepReason)[keyof typeof PrepReason];

/** The preparation state of one vxnet. */
export interface VxnetPrep {
  readonly vxnetId: string;
  readonly ready: boolean;
  readonly reason: PrepReason;
  readonly message: string;
  /** The pod range, once the vxnet was described successfully (also when later steps are pending). */
  readonly range?: VxNetPodRange | undefined;
  /** VIPs found for the range. */
  readonly vips?: number | undefined;
  /** The security group the rule went into; undefined when the cluster has none (non-QKE). */
  readonly securityGroup?: string | undefined;
}

/** What releasing a vxnet's IaaS resources achieved. */
export interface ReleaseOutcome {
  readonly done: boolean;
  readonly message: string;
}

export interface PreparerOptions {
  readonly iaas: IaasClient;
  readonly securityGroup: SecurityGroupSource;
  /** Only the leader may change the IaaS. */
  readonly fence: Fence;
  readonly log?: Logger;
  /** Described vxnets are described again after this long (default 10 min). */
  readonly refreshMs?: number;
  /** Bound of the job waits of a release (default 60 s). */
  readonly jobTimeoutMs?: number;
  readonly now?: () => number;
  /** Crash tests: called between writes (failpoints.ts). */
  readonly failpoint?: ControllerFailpoint;
}

interface Described {
  readonly vxnet: Vxnet;
  readonly at: number;
}

interface PendingJob {
  readonly jobId: string | undefined;
  readonly since: number;
}

const CIDR_RULE_PROTOCOL = 'all';

function jobStatusWord(job: Job | undefined): 'done' | 'failed' | 'running' | 'gone' {
  if (job === undefined) return 'gone';
  if (job.status === 'successful') return 'done';
  if (job.status === 'failed') return 'failed';
  return 'running';
}

function ready(vxnetId: string, range: VxNetPodRange, vips: number, securityGroup: string | undefined): VxnetPrep {
  const sg = securityGroup === undefined ? '' : `, security group ${securityGroup} lets ${range.network} in`;
  return {
    vxnetId,
    ready: true,
    reason: PrepReason.Ready,
    message: `pod range ${range.ipStart}-${range.ipEnd} (${range.size} addresses) pinned by ${vips} VIPs${sg}`,
    range,
    vips,
    securityGroup,
  };
}

/** Prepares vxnets in the IaaS; keeps what it learnt in memory and re-learns it from the IaaS after a restart. */
export class VxnetPreparer {
  readonly #iaas: IaasClient;
  readonly #sg: SecurityGroupSource;
  readonly #fence: Fence;
  readonly #log: Logger;
  readonly #refreshMs: number;
  readonly #jobTimeoutMs: number;
  readonly #now: () => number;
  readonly #described = new Map<string, Described>();
  readonly #vipsReady = new Map<string, number>();
  readonly #ruleReady = new Map<string, string>();
  readonly #vipJobs = new Map<string, PendingJob>();
  /** Security groups this process submitted ApplySecurityGroup on (which puts every rule then present in force). */
  readonly #appliedGroups = new Set<string>();
  readonly #failpoint: ControllerFailpoint;
  readonly #ruleJobs = new Map<string, PendingJob>();
  /** IaaS calls that failed, for metrics. */
  errors = 0;

  constructor(options: PreparerOptions) {
    this.#iaas = options.iaas;
    this.#sg = options.securityGroup;
    this.#fence = options.fence;
    this.#log = options.log ?? silentLogger;
    this.#refreshMs = options.refreshMs ?? 10 * 60_000;
    this.#jobTimeoutMs = options.jobTimeoutMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#failpoint = options.failpoint ?? noFailpoint;
  }

  /** Forgets cached results so that the next `prepare` looks at the IaaS again (after a spec change). */
  invalidate(vxnetId?: string): void {
    for (const map of [this.#described, this.#vipsReady, this.#ruleReady]) {
      if (vxnetId === undefined) map.clear();
      else map.delete(vxnetId);
    }
  }

  /**
   * Moves every vxnet one step towards ready and reports where each stands. Never throws for IaaS trouble:
   * a vxnet whose step failed reports `IaasError` with the API's message.
   */
  async prepare(vxnetIds: readonly string[], customReservedIPCount: number, signal?: AbortSignal): Promise<VxnetPrep[]> {
    const describeError = await this.#describe(vxnetIds, signal);
    let securityGroup: string | undefined;
    let sgError: string | undefined;
    try {
      securityGroup = await this.#sg.current(signal);
    } catch (e) {
      this.errors++;
      sgError = errorText(e);
    }
    const out: VxnetPrep[] = [];
    for (const vxnetId of vxnetIds) {
      signal?.throwIfAborted();
      try {
        out.push(await this.#prepareOne(vxnetId, customReservedIPCount, securityGroup, sgError, describeError, signal));
      } catch (e) {
        if (signal?.aborted === true) throw e;
        this.errors++;
        this.#log.warn('IaaS preparation step failed', { vxnet: vxnetId, error: errorText(e) });
        const range = this.#rangeOf(vxnetId, customReservedIPCount);
        out.push({ vxnetId, ready: false, reason: PrepReason.IaasError, message: errorText(e), range });
      }
    }
    return out;
  }

  #rangeOf(vxnetId: string, custom: number): VxNetPodRange | undefined {
    const d = this.#described.get(vxnetId);
    if (d === undefined) return undefined;
    try {
      return podRangeOfVxnet(iaasInfoOf(d.vxnet), custom);
    } catch {
      return undefined;
    }
  }

  async #describe(vxnetIds: readonly string[], signal: AbortSignal | undefined): Promise<string | undefined> {
    const now = this.#now();
    const stale = vxnetIds.filter((id) => {
      const d = this.#described.get(id);
      return d === undefined || now - d.at >= this.#refreshMs;
    });
    if (stale.length === 0) return undefined;
    try {
      const found = await this.#iaas.describeVxnetsByIds(stale, signal);
      for (const id of stale) {
        const vxnet = found.get(id);
        if (vxnet === undefined) this.#described.delete(id);
        else this.#described.set(id, { vxnet, at: now });
      }
      return undefined;
    } catch (e) {
      if (signal?.aborted === true) throw e;
      this.errors++;
      return errorText(e);
    }
  }

  async #prepareOne(
    vxnetId: string,
    custom: number,
    securityGroup: string | undefined,
    sgError: string | undefined,
    describeError: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<VxnetPrep> {
    const described = this.#described.get(vxnetId);
    if (described === undefined) {
      if (describeError !== undefined) {
        return { vxnetId, ready: false, reason: PrepReason.IaasError, message: `DescribeVxNets failed: ${describeError}` };
      }
      return {
        vxnetId,
        ready: false,
        reason: PrepReason.VxnetNotFound,
        message: `vxnet ${vxnetId} does not exist in the IaaS (or is not visible to this access key); fix spec.vxnets of VxNetPool v-pool`,
      };
    }
    let range: VxNetPodRange;
    try {
      range = podRangeOfVxnet(iaasInfoOf(described.vxnet), custom);
    } catch (e) {
      return { vxnetId, ready: false, reason: PrepReason.VxnetInvalid, message: errorText(e) };
    }

    const vips = await this.#ensureVips(range, signal);
    if (typeof vips !== 'number') return { ...vips, range };

    if (sgError !== undefined) {
      return { vxnetId, ready: false, reason: PrepReason.IaasError, message: `finding the cluster's security group failed: ${sgError}`, range, vips };
    }
    if (securityGroup === undefined) return ready(vxnetId, range, vips, undefined);
    const rule = await this.#ensureRule(range, securityGroup, signal);
    if (rule !== undefined) return { ...rule, range, vips, securityGroup };
    return ready(vxnetId, range, vips, securityGroup);
  }

  async #jobWord(jobId: string | undefined, signal: AbortSignal | undefined): Promise<ReturnType<typeof jobStatusWord>> {
    if (jobId === undefined) return 'done';
    const jobs = await this.#iaas.describeJobs({ jobs: [jobId] }, { signal });
    return jobStatusWord(jobs.find((j) => j.jobId === jobId));
  }

  async #ensureVips(range: VxNetPodRange, signal: AbortSignal | undefined): Promise<number | Omit<VxnetPrep, 'range'>> {
    const vxnetId = range.vxnetId;
    const known = this.#vipsReady.get(vxnetId);
    if (known !== undefined) return known;
    const name = hostnicNameOf(vxnetId);
    const found = await this.#iaas.describeVips({ vxnets: [vxnetId], vipName: name }, { signal });
    if (found.length > 0) {
      this.#vipsReady.set(vxnetId, found.length);
      this.#vipJobs.delete(vxnetId);
      if (found.length < range.size) {
        this.#log.warn('fewer VIPs than pod addresses; the IaaS DHCP may hand out pod addresses', {
          vxnet: vxnetId,
          vips: found.length,
          podAddresses: range.size,
        });
      }
      return found.length;
    }
    const pending = this.#vipJobs.get(vxnetId);
    if (pending !== undefined) {
      const word = await this.#jobWord(pending.jobId, signal);
      if (word === 'running') {
        return { vxnetId, ready: false, reason: PrepReason.VipsPending, message: `AllocateVips job ${pending.jobId ?? '?'} for ${name} is running` };
      }
      this.#vipJobs.delete(vxnetId);
      if (word === 'failed') {
        return {
          vxnetId,
          ready: false,
          reason: PrepReason.VipsFailed,
          message: `AllocateVips job ${pending.jobId ?? '?'} for ${name} failed; it is retried (are addresses of ${range.ipStart}-${range.ipEnd} in use by NICs or other VIPs?)`,
        };
      }
      // Done or forgotten by the IaaS but no VIPs visible: allocate again below.
    } else {
      // A job submitted before a restart and still running: waiting for it avoids a second allocation.
      const running = (await this.#iaas.findActiveJob('AllocateVips', [vxnetId], signal))?.jobId;
      if (running !== undefined) {
        this.#vipJobs.set(vxnetId, { jobId: running, since: this.#now() });
        return { vxnetId, ready: false, reason: PrepReason.VipsPending, message: `AllocateVips job ${running} for ${name} is running` };
      }
    }
    this.#fence.check('AllocateVips');
    const job = await this.#iaas.allocateVips(
      { vxnetId, vipName: name, vipRange: `${range.ipStart}-${range.ipEnd}`, count: range.size },
      signal,
    );
    await this.#failpoint('vips:submitted');
    this.#vipJobs.set(vxnetId, { jobId: job.jobId, since: this.#now() });
    this.#log.info('allocating VIPs for the pod range', { vxnet: vxnetId, name, range: `${range.ipStart}-${range.ipEnd}`, job: job.jobId });
    return { vxnetId, ready: false, reason: PrepReason.VipsPending, message: `AllocateVips job ${job.jobId ?? '?'} for ${name} submitted` };
  }

  async #findRule(range: VxNetPodRange, securityGroup: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    // Paged, unlike the original (which read 20 rules and could miss its own).
    const rules = await this.#iaas.describeSecurityGroupRules({ securityGroup, direction: 0 }, { signal });
    const rule = rules.find((r) => r.val3 === range.network && r.action === 'accept' && r.protocol === CIDR_RULE_PROTOCOL);
    return rule?.securityGroupRuleId;
  }

  async #ensureRule(
    range: VxNetPodRange,
    securityGroup: string,
    signal: AbortSignal | undefined,
  ): Promise<Omit<VxnetPrep, 'range'> | undefined> {
    const vxnetId = range.vxnetId;
    const key = `${securityGroup}/${vxnetId}`;
    if (this.#ruleReady.get(vxnetId) === securityGroup) return undefined;
    const pending = this.#ruleJobs.get(key);
    const found = await this.#findRule(range, securityGroup, signal);
    if (pending !== undefined) {
      const word = await this.#jobWord(pending.jobId, signal);
      if (word === 'running') {
        return { vxnetId, ready: false, reason: PrepReason.SecurityGroupRulePending, message: `ApplySecurityGroup job ${pending.jobId ?? '?'} on ${securityGroup} is running` };
      }
      this.#ruleJobs.delete(key);
      if (word === 'failed') {
        return { vxnetId, ready: false, reason: PrepReason.SecurityGroupRuleFailed, message: `ApplySecurityGroup job ${pending.jobId ?? '?'} on ${securityGroup} failed; it is retried` };
      }
      if (found !== undefined) {
        this.#ruleReady.set(vxnetId, securityGroup);
        return undefined;
      }
    } else if (found !== undefined) {
      // A rule found before this process applied its group may come from a run killed between
      // AddSecurityGroupRules and ApplySecurityGroup, i.e. not in force. Applying once more per start is
      // harmless; the vxnet stays ready meanwhile, as a restart must not turn a complete pool unready.
      if (!this.#appliedGroups.has(securityGroup)) {
        const job = await this.#apply(securityGroup, signal);
        this.#log.info('applied the security group again after a start', { vxnet: vxnetId, securityGroup, job: job.jobId });
      }
      this.#ruleReady.set(vxnetId, securityGroup);
      return undefined;
    }
    this.#fence.check('AddSecurityGroupRules');
    await this.#iaas.addSecurityGroupRules(
      {
        securityGroup,
        rules: [
          {
            securityGroupRuleName: hostnicNameOf(vxnetId),
            action: 'accept',
            direction: 0,
            priority: 0,
            protocol: CIDR_RULE_PROTOCOL,
            val3: range.network,
          },
        ],
      },
      signal,
    );
    await this.#failpoint('sg-rule:added');
    const job = await this.#apply(securityGroup, signal);
    this.#ruleJobs.set(key, { jobId: job.jobId, since: this.#now() });
    this.#log.info('added the security-group rule for the vxnet', { vxnet: vxnetId, securityGroup, cidr: range.network, job: job.jobId });
    return { vxnetId, ready: false, reason: PrepReason.SecurityGroupRulePending, message: `rule ${hostnicNameOf(vxnetId)} added to ${securityGroup}, ApplySecurityGroup job ${job.jobId ?? '?'} submitted` };
  }

  /** Submits ApplySecurityGroup; every rule the group holds now is in force once its job is done. */
  async #apply(securityGroup: string, signal: AbortSignal | undefined): Promise<{ jobId?: string | undefined }> {
    this.#fence.check('ApplySecurityGroup');
    const job = await this.#iaas.applySecurityGroup(securityGroup, { signal });
    this.#appliedGroups.add(securityGroup);
    await this.#failpoint('sg-rule:applied');
    return job;
  }

  /**
   * Gives back what `prepare` took for a vxnet that left the pool: its VIPs, then its security-group rule.
   * Call it only once no pod address of the vxnet is in use. Repeating it is harmless.
   */
  async release(vxnetId: string, signal?: AbortSignal): Promise<ReleaseOutcome> {
    const name = hostnicNameOf(vxnetId);
    const vips = await this.#iaas.describeVips({ vxnets: [vxnetId], vipName: name }, { signal });
    if (vips.length > 0) {
      this.#fence.check('ReleaseVips');
      const job = await this.#iaas.releaseVips({ vips: vips.map((v) => v.vipId), vxnetId }, signal);
      if (job.jobId !== undefined) await this.#iaas.waitJob(job.jobId, { timeoutMs: this.#jobTimeoutMs, signal });
      const left = await this.#iaas.describeVips({ vxnets: [vxnetId], vipName: name }, { signal });
      if (left.length > 0) return { done: false, message: `${left.length} VIPs named ${name} are still there after ReleaseVips` };
      await this.#failpoint('drain:vips-released');
    }
    this.#vipsReady.delete(vxnetId);
    this.#vipJobs.delete(vxnetId);

    const securityGroup = await this.#sg.current(signal);
    if (securityGroup !== undefined) {
      const rules = await this.#iaas.describeSecurityGroupRules({ securityGroup, direction: 0 }, { signal });
      const ours = rules.filter((r) => r.securityGroupRuleName === name);
      if (ours.length > 0) {
        this.#fence.check('DeleteSecurityGroupRules');
        await this.#iaas.deleteSecurityGroupRules(ours.map((r) => r.securityGroupRuleId), signal);
        this.#fence.check('ApplySecurityGroup');
        const job = await this.#iaas.applySecurityGroup(securityGroup, { signal });
        if (job.jobId !== undefined) await this.#iaas.waitJob(job.jobId, { timeoutMs: this.#jobTimeoutMs, signal });
      }
    }
    this.#ruleReady.delete(vxnetId);
    this.#described.delete(vxnetId);
    return { done: true, message: `VIPs ${name} released${securityGroup === undefined ? '' : ` and rule ${name} removed from ${securityGroup}`}` };
  }
}
