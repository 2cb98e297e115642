/**
 * `ipam check`: the consistency check of `@hostnic/ipam` on one snapshot, told in plain words. Pure: the
 * snapshot comes in, a report and its text go out; nothing here writes.
 */
import type { ConsistencyReport, Finding, IPAMBlock, IPAMHandle, IPPool, LivePod, RepairPlan } from '@hostnic/ipam';
import { addressOfOrdinal, checkConsistency } from '@hostnic/ipam';
import { formatDuration } from './duration.ts';
import { allocatedSince } from './ipam-show.ts';
import { plural } from './table.ts';

/** One snapshot of the IPAM objects and the live pods. */
export interface CheckInput {
  readonly pools: readonly IPPool[];
  readonly blocks: readonly IPAMBlock[];
  readonly handles: readonly IPAMHandle[];
  /** Every live pod; listed after the IPAM objects, so a pod seen in a block is not missed here. */
  readonly livePods: readonly LivePod[];
  /** Every node; given, the address claims of other nodes are reported and released. */
  readonly liveNodes?: readonly string[] | undefined;
  readonly now: Date;
  readonly graceMs: number;
}

/** A finding with what the operator needs to read it. */
export type FindingReport = Finding & {
  /** False only for allocations of gone pods still within the grace period (often a CNI DEL under way). */
  readonly problem: boolean;
  /** The addresses the finding is about (empty when it is about handles or whole blocks). */
  readonly addresses: readonly string[];
  /** The finding in words. */
  readonly message: string;
};

/** A release of the repair plan, with its addresses. */
export interface PlannedRelease {
  readonly blockName: string;
  readonly handleId: string;
  readonly ordinals: readonly number[];
  readonly addresses: readonly string[];
}

/** The repair plan with addresses spelled out. */
export interface PlanReport extends Omit<RepairPlan, 'release'> {
  readonly release: readonly PlannedRelease[];
}

/** What `ipam check` reports (JSON keys are stable; `plan` only with `--show-plan`). */
export interface CheckReport {
  readonly checkedAt: string;
  readonly graceMs: number;
  readonly checked: { readonly pools: number; readonly blocks: number; readonly handles: number; readonly livePods: number };
  /** No finding is a problem. */
  readonly clean: boolean;
  readonly problems: number;
  /** Allocations of gone pods within the grace period. */
  readonly pending: number;
  readonly findings: readonly FindingReport[];
  readonly plan?: PlanReport;
}

/** Address text of ordinals; a block too damaged to compute them yields `#<ordinal>`. */
function addressesOf(blocks: ReadonlyMap<string, IPAMBlock>, blockName: string, ordinals: readonly number[]): string[] {
  const block = blocks.get(blockName);
  return ordinals.map((o) => {
    try {
      if (block !== undefined) return addressOfOrdinal(block.spec, o).address;
    } catch {
      // fall through to the ordinal
    }
    return `#${o}`;
  });
}

function joinAddresses(addresses: readonly string[]): string {
  return addresses.join(', ');
}

function sinceOf(block: IPAMBlock | undefined, ordinals: readonly number[]): Date | undefined {
  let latest: Date | undefined;
  for (const ordinal of ordinals) {
    const index = block?.spec.allocations[ordinal];
    if (block === undefined || index === undefined || index === null) continue;
    const since = allocatedSince(block.spec.attributes[index]);
    if (since !== undefined && (latest === undefined || since > latest)) latest = since;
  }
  return latest;
}

function describe(finding: Finding, blocks: ReadonlyMap<string, IPAMBlock>): { addresses: string[]; message: string } {
  switch (finding.kind) {
    case 'DeadPodAllocation': {
      const addresses = addressesOf(blocks, finding.blockName, finding.ordinals);
      const why =
        finding.reason === 'PodGone'
          ? `pod ${finding.namespace}/${finding.pod} is gone`
          : `pod ${finding.namespace}/${finding.pod} runs a newer sandbox`;
      const since = sinceOf(blocks.get(finding.blockName), finding.ordinals);
      return {
        addresses,
        message:
          `${joinAddresses(addresses)} in block ${finding.blockName}: ${why}; held by handle ${finding.handleId}` +
          (since === undefined ? '' : ` since ${since.toISOString()}`),
      };
    }
    case 'DeadNodeClaim': {
      const addresses = addressesOf(blocks, finding.blockName, finding.ordinals);
      return {
        addresses,
        message: `${joinAddresses(addresses)} in block ${finding.blockName}: held by the address claim of node ${finding.node}, which is gone`,
      };
    }
    case 'OrphanAllocation': {
      const addresses = addressesOf(blocks, finding.blockName, finding.ordinals);
      return {
        addresses,
        message: `${joinAddresses(addresses)} in block ${finding.blockName}: held by handle ${finding.handleId}, which has no IPAMHandle object`,
      };
    }
    case 'StaleHandleBlock': {
      const why =
        finding.reason === 'BlockMissing'
          ? 'which does not exist'
          : finding.reason === 'NoAddresses'
            ? 'which holds no address for it'
            : 'which is not a valid block key';
      return { addresses: [], message: `handle ${finding.handleId} counts addresses in block ${finding.blockKey}, ${why}` };
    }
    case 'HandleCountMismatch':
      return {
        addresses: [],
        message:
          `handle ${finding.handleId} counts ${plural(finding.handleCount, 'address', 'addresses')} in block ${finding.blockKey}; ` +
          `the block holds ${finding.blockCount}`,
      };
    case 'BrokenBlock':
      return { addresses: [], message: `block ${finding.blockName}: ${finding.problems.map((p) => p.message).join('; ')}` };
    case 'UnrecordedPodAddress':
      return {
        addresses: [finding.address],
        message:
          `${finding.address} of pod ${finding.namespace}/${finding.pod} is not recorded in block ${finding.blockName}` +
          (finding.heldBy !== undefined
            ? `, which gives it to ${finding.heldBy}: delete one of the two owners`
            : finding.fixable
              ? ': `ipam check --fix` records it'
              : ': no handle can be named for the pod; delete the pod to give it a recorded address'),
      };
    case 'SharedPodAddress':
      return { addresses: [finding.address], message: `${finding.address} is used by ${finding.pods.length} live pods (${finding.pods.join(', ')}): delete all but one` };
    case 'BlockWithoutPool':
      return {
        addresses: [],
        message:
          finding.pool === undefined
            ? `block ${finding.blockName} has no pool label`
            : `block ${finding.blockName} belongs to pool ${finding.pool}, which does not exist`,
      };
    case 'AllocationOutsideRange': {
      const addresses = addressesOf(blocks, finding.blockName, finding.ordinals);
      return {
        addresses,
        message: `${joinAddresses(addresses)} in block ${finding.blockName}, held by handle ${finding.handleId}: outside the pool's range`,
      };
    }
    case 'OverlappingBlocks':
      return { addresses: [], message: `blocks ${finding.blockNames[0]} and ${finding.blockNames[1]} share addresses` };
  }
}

/**
 * Runs the check on a snapshot and describes it.
 * @param input - the snapshot
 * @param options - whether to include the repair plan
 */
export function checkReport(input: CheckInput, options: { plan: boolean }): CheckReport {
  const report: ConsistencyReport = checkConsistency({
    pools: input.pools,
    blocks: input.blocks,
    handles: input.handles,
    livePods: input.livePods,
    now: input.now,
    graceMs: input.graceMs,
    liveNodes: input.liveNodes,
  });
  const blocks = new Map(input.blocks.map((b) => [b.metadata.name, b]));
  const findings: FindingReport[] = report.findings.map((f) => ({
    ...f,
    problem: !(f.kind === 'DeadPodAllocation' && f.withinGrace),
    ...describe(f, blocks),
  }));
  const problems = findings.filter((f) => f.problem).length;
  const plan: PlanReport = {
    ...report.plan,
    release: report.plan.release.map((r) => ({ ...r, addresses: addressesOf(blocks, r.blockName, r.ordinals) })),
  };
  return {
    checkedAt: input.now.toISOString(),
    graceMs: input.graceMs,
    checked: {
      pools: input.pools.length,
      blocks: input.blocks.filter((b) => !b.spec.deleted).length,
      handles: input.handles.filter((h) => !h.spec.deleted).length,
      livePods: input.livePods.length,
    },
    clean: problems === 0,
    problems,
    pending: findings.length - problems,
    findings,
    ...(options.plan ? { plan } : {}),
  };
}

interface Section {
  readonly title: string;
  readonly matches: (f: FindingReport) => boolean;
}

const SECTIONS: readonly Section[] = [
  { title: 'Leaked addresses (their pod is gone or runs a newer sandbox)', matches: (f) => f.kind === 'DeadPodAllocation' && f.problem },
  { title: 'Address claims of nodes that are gone', matches: (f) => f.kind === 'DeadNodeClaim' },
  { title: 'Addresses without an IPAMHandle', matches: (f) => f.kind === 'OrphanAllocation' },
  { title: 'Handles naming blocks that hold nothing for them', matches: (f) => f.kind === 'StaleHandleBlock' },
  { title: 'Handles whose counts differ from their blocks', matches: (f) => f.kind === 'HandleCountMismatch' },
  { title: 'Damaged blocks', matches: (f) => f.kind === 'BrokenBlock' },
  { title: 'Addresses of live pods their blocks do not record (`ipam check --fix`)', matches: (f) => f.kind === 'UnrecordedPodAddress' },
  { title: 'Addresses used by several live pods', matches: (f) => f.kind === 'SharedPodAddress' },
  { title: 'Blocks without a pool', matches: (f) => f.kind === 'BlockWithoutPool' },
  { title: "Addresses allocated outside their pool's range", matches: (f) => f.kind === 'AllocationOutsideRange' },
  { title: 'Overlapping blocks (an address could be handed out twice)', matches: (f) => f.kind === 'OverlappingBlocks' },
];

function counts(block: Readonly<Record<string, number>>): string {
  const entries = Object.entries(block);
  return entries.length === 0 ? '(nothing)' : entries.map(([k, n]) => `${k}=${n}`).join(', ');
}

/**
 * The text of a repair plan.
 * @param plan - the plan
 */
export function renderPlan(plan: PlanReport): string {
  const lines: string[] = [];
  for (const r of plan.release) lines.push(`  release ${joinAddresses(r.addresses)} in block ${r.blockName} (handle ${r.handleId})`);
  for (const h of plan.createHandles) lines.push(`  create handle ${h.handleId}: ${counts(h.block)}`);
  for (const h of plan.updateHandles) lines.push(`  correct handle ${h.handleId}: ${counts(h.block)}`);
  for (const h of plan.deleteHandles) lines.push(`  delete handle ${h}`);
  for (const r of plan.recordAddresses ?? []) lines.push(`  record ${r.address} in block ${r.blockName} for pod ${r.namespace}/${r.pod} (handle ${r.handleId}; ipam check --fix)`);
  if (lines.length === 0) return 'Repair plan: nothing to do.\n';
  return `Repair plan (not applied; ipam check never writes):\n${lines.join('\n')}\n`;
}

/**
 * The text of a {@link CheckReport}: findings grouped by kind, then a summary.
 * @param report - the report
 */
export function renderCheckReport(report: CheckReport): string {
  const parts: string[] = [];
  for (const section of SECTIONS) {
    const found = report.findings.filter(section.matches);
    if (found.length > 0) parts.push(`${section.title} (${found.length}):\n${found.map((f) => `  ${f.message}`).join('\n')}\n`);
  }
  const pending = report.findings.filter((f) => !f.problem);
  if (pending.length > 0) {
    parts.push(
      `Addresses of gone pods within the ${formatDuration(report.graceMs)} grace period, not counted as problems (${pending.length}):\n` +
        `${pending.map((f) => `  ${f.message}`).join('\n')}\n`,
    );
  }
  const c = report.checked;
  const scope =
    `${plural(c.pools, 'pool')}, ${plural(c.blocks, 'block')}, ${plural(c.handles, 'handle')} and ` +
    `${plural(c.livePods, 'live pod')} at ${report.checkedAt}`;
  if (report.clean) parts.push(`No problems found: checked ${scope}.\n`);
  else {
    parts.push(
      `Found ${plural(report.problems, 'problem')}: checked ${scope}.\n` +
        "Nothing was changed. The controller's garbage collector repairs what persists; " +
        '`ipam check --show-plan` shows that repair, `ipam release --ip <address>` frees one address now.\n',
    );
  }
  if (report.plan !== undefined) parts.push(renderPlan(report.plan));
  return parts.join('\n');
}
