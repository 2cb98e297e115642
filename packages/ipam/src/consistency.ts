/**
 * The pure part of the leak and inconsistency check: given a snapshot of pools, blocks,
 * handles and live pods, report what is wrong and compute a repair plan as data. Stores apply the plan
 * (re-reading each object and comparing before writing); nothing here performs I/O.
 *
 * Allocation writes the handle before the block, so a snapshot taken mid-allocation shows a handle count
 * above the block's. Callers should therefore act only on findings that persist: run the check twice some
 * time apart and apply {@link stableRepairPlan} of the two plans.
 *
 * @packageDocumentation
 */
import { parseCidr, tryParseIPv4 } from './address.ts';
import { checkBlock, isReservedAttribute } from './block.ts';
import { compareBlockSpecs } from './blocks.ts';
import type { BlockProblem } from './errors.ts';
import { blockKey, blockNameFromKey, handleMatchesPod, isDns1123Subdomain, podHandleId } from './naming.ts';
import type { PodRef } from './naming.ts';
import { epochMs, parseTimestamp } from './time.ts';
import { claimNodeOf } from './claim/naming.ts';
import type { IPAMBlock, IPAMHandle, IPPool } from './types.ts';
import { AttributeKey, LABEL_POOL_NAME } from './types.ts';

/** Default grace period before an allocation of a missing pod is released: 5 minutes. */
export const DEFAULT_LEAK_GRACE_MS = 5 * 60_000;

/** A pod that exists (and is not finished); `containerID` is its current sandbox when known. */
export type LivePod = PodRef & {
  /** The pod's IPv4 address as its status reports it, when known: lets the check find addresses a block lost. */
  readonly ip?: string | undefined;
  /** The pod's node, recorded with a restored address. */
  readonly node?: string | undefined;
};

/** Inputs of {@link checkConsistency}: one snapshot of the IPAM objects and of the live pods. */
export interface ConsistencyInput {
  /** All IPPools. */
  readonly pools: readonly IPPool[];
  /** All IPAMBlocks. */
  readonly blocks: readonly IPAMBlock[];
  /** All IPAMHandles. */
  readonly handles: readonly IPAMHandle[];
  /** Every live pod of the cluster (the list must be complete, e.g. from a synced cache). */
  readonly livePods: readonly LivePod[];
  /** The current time. */
  readonly now: Date;
  /** Allocations younger than this are reported but not released; default {@link DEFAULT_LEAK_GRACE_MS}. */
  readonly graceMs?: number;
  /**
   * Every node of the cluster (the list must be complete). Given, the claims of nodes not in it are released;
   * absent, node claims are left alone. Addresses inside a claim are never judged by their pods: the claim's
   * node owns them and publishes which pod uses each.
   */
  readonly liveNodes?: readonly string[] | undefined;
}

/** One inconsistency. */
export type Finding =
  | {
      /** A handle names a block that is missing, unparsable, or holds nothing for it. */
      readonly kind: 'StaleHandleBlock';
      readonly handleId: string;
      readonly blockKey: string;
      readonly reason: 'BlockMissing' | 'NoAddresses' | 'BadKey';
    }
  | {
      /** A handle's count for a block differs from the addresses the block holds for it. */
      readonly kind: 'HandleCountMismatch';
      readonly handleId: string;
      readonly blockKey: string;
      readonly handleCount: number;
      readonly blockCount: number;
    }
  | {
      /** A block holds addresses for a handle that has no (live) IPAMHandle object. */
      readonly kind: 'OrphanAllocation';
      readonly blockName: string;
      readonly handleId: string;
      readonly ordinals: readonly number[];
    }
  | {
      /** A block holds addresses for a pod that is gone, or for an older sandbox of a live pod. */
      readonly kind: 'DeadPodAllocation';
      readonly blockName: string;
      readonly handleId: string;
      readonly namespace: string;
      readonly pod: string;
      readonly ordinals: readonly number[];
      readonly reason: 'PodGone' | 'SandboxChanged';
      /** True when the allocation is younger than the grace period (then it is not released yet). */
      readonly withinGrace: boolean;
    }
  | {
      /** A block holds addresses for the claim of a node that is gone. */
      readonly kind: 'DeadNodeClaim';
      readonly blockName: string;
      readonly handleId: string;
      readonly node: string;
      readonly ordinals: readonly number[];
    }
  | {
      /** The block's invariant is broken. */
      readonly kind: 'BrokenBlock';
      readonly blockName: string;
      readonly problems: readonly BlockProblem[];
    }
  | {
      /** The block's pool label names no existing pool. */
      readonly kind: 'BlockWithoutPool';
      readonly blockName: string;
      readonly pool: string | undefined;
    }
  | {
      /** Addresses outside the pool's `[rangeStart, rangeEnd]` are allocated (blocks from Go's reservation bug). */
      readonly kind: 'AllocationOutsideRange';
      readonly blockName: string;
      readonly handleId: string;
      readonly ordinals: readonly number[];
    }
  | {
      /** Two blocks share addresses, so one address could be handed out twice. */
      readonly kind: 'OverlappingBlocks';
      readonly blockNames: readonly [string, string];
    }
  | {
      /**
       * A live pod uses an address its block does not record as allocated (the original's "broken block"): the
       * address could be handed to a second pod. Fixed by recording it for the pod's handle, unless
       * `fixable` is false (no handle can be named for the pod) or another handle holds it.
       */
      readonly kind: 'UnrecordedPodAddress';
      readonly blockName: string;
      readonly address: string;
      readonly namespace: string;
      readonly pod: string;
      /** Who the block says holds it instead, when someone does. */
      readonly heldBy: string | undefined;
      readonly fixable: boolean;
    }
  | {
      /** Several live pods report the same address: only deleting all but one of them fixes it. */
      readonly kind: 'SharedPodAddress';
      readonly address: string;
      readonly pods: readonly string[];
    };

/** Addresses to release in one block, all held by one handle. */
export interface ReleaseAction {
  /** The block's name. */
  readonly blockName: string;
  /** The handle the ordinals belong to now (compare before releasing). */
  readonly handleId: string;
  /** The ordinals, ascending. */
  readonly ordinals: readonly number[];
}

/** The desired `spec.block` of a handle. */
/** Recording an address a live pod uses but its block forgot. */
export interface RecordAction {
  readonly blockName: string;
  readonly address: string;
  readonly handleId: string;
  readonly namespace: string;
  readonly pod: string;
  readonly node: string | undefined;
}

export interface HandleAction {
  /** The handle ID. */
  readonly handleId: string;
  /** Block key → count. */
  readonly block: Readonly<Record<string, number>>;
}

/** What to change; every list is sorted so that equal snapshots give equal plans. */
export interface RepairPlan {
  /** Leaked addresses to release (pods gone past the grace period). */
  readonly release: readonly ReleaseAction[];
  /** Handles that hold nothing once the plan is applied. */
  readonly deleteHandles: readonly string[];
  /** Handles whose `spec.block` must be replaced. */
  readonly updateHandles: readonly HandleAction[];
  /** Handles to create for allocations that have none. */
  readonly createHandles: readonly HandleAction[];
  /** Addresses live pods use that their blocks forgot, to record for the pods' handles. */
  readonly recordAddresses?: readonly RecordAction[];
}

/** The outcome of {@link checkConsistency}. */
export interface ConsistencyReport {
  /** Everything found, grouped by kind in a fixed order. */
  readonly findings: readonly Finding[];
  /** The repair plan. */
  readonly plan: RepairPlan;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

interface Holding {
  readonly block: IPAMBlock;
  readonly key: string;
  readonly ordinals: number[];
}

/**
 * Checks a snapshot and plans repairs:
 * - handles naming missing blocks or blocks that hold nothing for them, and counts that disagree with the
 *   blocks → handle updates or deletions (counts are set to what the blocks hold);
 * - allocations whose handle has no object → handle creation (unless they are released);
 * - allocations whose `namespace`/`pod` attributes name a pod that is not live, or whose handle is not the
 *   live pod's current sandbox → release once older than the grace period (by the `timestamp` attribute;
 *   an unreadable timestamp counts as old);
 * - broken block invariants, blocks without a pool, allocations outside the pool range and overlapping
 *   blocks → reported only.
 * Objects marked `deleted: true` count as absent (so a handle to create may still exist with that mark: finish
 * its deletion first). Allocations without pod attributes are never released.
 * @param input - the snapshot
 */
export function checkConsistency(input: ConsistencyInput): ConsistencyReport {
  const nowMs = epochMs(input.now, 'now');
  const graceMs = input.graceMs ?? DEFAULT_LEAK_GRACE_MS;
  const blocks = input.blocks.filter((b) => !b.spec.deleted);
  const handles = new Map(input.handles.filter((h) => !h.spec.deleted).map((h) => [h.spec.handleID, h]));
  const pools = new Map(input.pools.map((p) => [p.metadata.name, p]));
  const pods = new Map(input.livePods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const liveNodes = input.liveNodes === undefined ? undefined : new Set(input.liveNodes);

  const broken: Finding[] = [];
  const withoutPool: Finding[] = [];
  const outside: Finding[] = [];
  const dead: Finding[] = [];
  const releases: ReleaseAction[] = [];
  const blockByKey = new Map<string, IPAMBlock>();
  // handle → block key → holding
  const holdings = new Map<string, Map<string, Holding>>();

  for (const block of sortedBlocks(blocks)) {
    const name = block.metadata.name;
    const key = blockKey(block.spec.id, block.spec.cidr);
    blockByKey.set(key, block);
    const problems = checkBlock(block.spec);
    if (problems.length > 0) broken.push({ kind: 'BrokenBlock', blockName: name, problems });
    const poolName = block.metadata.labels?.[LABEL_POOL_NAME];
    const pool = poolName === undefined ? undefined : pools.get(poolName);
    if (pool === undefined) withoutPool.push({ kind: 'BlockWithoutPool', blockName: name, pool: poolName });

    const byHandle = new Map<string, number[]>();
    const rowOf = new Map<string, number>();
    block.spec.allocations.forEach((index, ordinal) => {
      if (index === null) return;
      const row = block.spec.attributes[index];
      if (row === undefined || isReservedAttribute(row) || row.handle_id === undefined) return;
      push(byHandle, row.handle_id, ordinal);
      if (!rowOf.has(row.handle_id)) rowOf.set(row.handle_id, index);
    });

    const base = baseOf(block);
    const range = pool === undefined ? undefined : rangeOf(pool);
    for (const [handleId, ordinals] of byHandle) {
      let perBlock = holdings.get(handleId);
      if (perBlock === undefined) holdings.set(handleId, (perBlock = new Map()));
      perBlock.set(key, { block, key, ordinals });

      if (range !== undefined && base !== undefined) {
        const out = ordinals.filter((o) => base + o < range.start || base + o > range.end);
        if (out.length > 0) outside.push({ kind: 'AllocationOutsideRange', blockName: name, handleId, ordinals: out });
      }

      const claimNode = claimNodeOf(handleId);
      if (claimNode !== undefined) {
        if (liveNodes !== undefined && !liveNodes.has(claimNode)) {
          dead.push({ kind: 'DeadNodeClaim', blockName: name, handleId, node: claimNode, ordinals });
          releases.push({ blockName: name, handleId, ordinals });
        }
        continue;
      }
      const verdict = podVerdict(block, ordinals, handleId, pods, nowMs, graceMs);
      if (verdict !== undefined) {
        dead.push({ kind: 'DeadPodAllocation', blockName: name, handleId, ordinals, ...verdict });
        if (!verdict.withinGrace) releases.push({ blockName: name, handleId, ordinals });
      }
    }
  }

  const released = new Set(releases.map((r) => `${r.blockName}\u0000${r.handleId}`));
  const remaining = (handleId: string, holding: Holding): number =>
    released.has(`${holding.block.metadata.name}\u0000${handleId}`) ? 0 : holding.ordinals.length;

  const stale: Finding[] = [];
  const mismatch: Finding[] = [];
  const deleteHandles: string[] = [];
  const updateHandles: HandleAction[] = [];
  for (const handle of [...handles.values()].sort((a, b) => byString(a.spec.handleID, b.spec.handleID))) {
    const handleId = handle.spec.handleID;
    const held = holdings.get(handleId) ?? new Map<string, Holding>();
    for (const [key, count] of Object.entries(handle.spec.block)) {
      const holding = held.get(key);
      if (!validKey(key)) stale.push({ kind: 'StaleHandleBlock', handleId, blockKey: key, reason: 'BadKey' });
      else if (!blockByKey.has(key)) stale.push({ kind: 'StaleHandleBlock', handleId, blockKey: key, reason: 'BlockMissing' });
      else if (holding === undefined) stale.push({ kind: 'StaleHandleBlock', handleId, blockKey: key, reason: 'NoAddresses' });
      else if (holding.ordinals.length !== count) {
        mismatch.push({ kind: 'HandleCountMismatch', handleId, blockKey: key, handleCount: count, blockCount: holding.ordinals.length });
      }
    }
    for (const [key, holding] of held) {
      if (!Object.hasOwn(handle.spec.block, key)) {
        mismatch.push({ kind: 'HandleCountMismatch', handleId, blockKey: key, handleCount: 0, blockCount: holding.ordinals.length });
      }
    }
    const desired = desiredBlock(handleId, held, remaining);
    if (Object.keys(desired).length === 0) deleteHandles.push(handleId);
    else if (!sameCounts(desired, handle.spec.block)) updateHandles.push({ handleId, block: desired });
  }

  const orphans: Finding[] = [];
  const createHandles: HandleAction[] = [];
  for (const handleId of [...holdings.keys()].sort(byString)) {
    if (handles.has(handleId)) continue;
    const held = holdings.get(handleId) ?? new Map<string, Holding>();
    for (const holding of held.values()) {
      orphans.push({ kind: 'OrphanAllocation', blockName: holding.block.metadata.name, handleId, ordinals: holding.ordinals });
    }
    const desired = desiredBlock(handleId, held, remaining);
    if (Object.keys(desired).length > 0 && isDns1123Subdomain(handleId)) createHandles.push({ handleId, block: desired });
  }

  const { findings: podFindings, records } = unrecordedPodAddresses(blocks, [...handles.keys()], input.livePods);
  const findings = [...stale, ...mismatch, ...orphans, ...dead, ...broken, ...podFindings, ...withoutPool, ...outside, ...overlaps(blocks)];
  return { findings, plan: { release: releases, deleteHandles, updateHandles, createHandles, recordAddresses: records } };
}

/**
 * Live pods' addresses that their blocks do not record (the original's "broken blocks"), and addresses several
 * live pods report. Reserved ordinals are skipped: a host-network pod reports its node's address.
 */
function unrecordedPodAddresses(
  blocks: readonly IPAMBlock[],
  handleIds: readonly string[],
  livePods: readonly LivePod[],
): { findings: Finding[]; records: RecordAction[] } {
  const findings: Finding[] = [];
  const records: RecordAction[] = [];
  const byIp = new Map<string, LivePod[]>();
  for (const pod of livePods) if (pod.ip !== undefined && tryParseIPv4(pod.ip) !== undefined) push(byIp, pod.ip, pod);
  const spans = blocks.flatMap((block) => {
    const base = baseOf(block);
    return base === undefined ? [] : [{ block, base, size: block.spec.allocations.length }];
  });
  for (const [ip, pods] of [...byIp].sort(([a], [b]) => (tryParseIPv4(a) ?? 0) - (tryParseIPv4(b) ?? 0))) {
    const address = tryParseIPv4(ip) ?? 0;
    const span = spans.find((x) => address >= x.base && address < x.base + x.size);
    if (span === undefined) continue;
    const index = span.block.spec.allocations[address - span.base] ?? null;
    const row = index === null ? undefined : span.block.spec.attributes[index];
    if (row !== undefined && isReservedAttribute(row)) continue;
    if (pods.length > 1) {
      findings.push({ kind: 'SharedPodAddress', address: ip, pods: pods.map((p) => `${p.namespace}/${p.name}`).sort() });
      continue;
    }
    const pod = pods[0]!;
    if (row?.handle_id !== undefined && handleMatchesPod(row.handle_id, pod)) continue;
    // A node's claim holds the addresses of that node's pods; its node publishes which pod uses each.
    const claimNode = claimNodeOf(row?.handle_id);
    if (claimNode !== undefined && (pod.node === undefined || pod.node === claimNode)) continue;
    const handleId = handleIds.find((h) => handleMatchesPod(h, pod)) ?? podHandleIdOrUndefined(pod);
    const blockName = span.block.metadata.name;
    const heldBy = index === null ? undefined : (row?.handle_id ?? '(unreadable attribute row)');
    const fixable = heldBy === undefined && handleId !== undefined;
    findings.push({ kind: 'UnrecordedPodAddress', blockName, address: ip, namespace: pod.namespace, pod: pod.name, heldBy, fixable });
    if (fixable) records.push({ blockName, address: ip, handleId, namespace: pod.namespace, pod: pod.name, node: pod.node });
  }
  return { findings, records };
}

function podHandleIdOrUndefined(pod: LivePod): string | undefined {
  if (pod.containerID === undefined || pod.containerID === '') return undefined;
  try {
    return podHandleId(pod.namespace, pod.name, pod.containerID).id;
  } catch {
    return undefined;
  }
}

function sortedBlocks(blocks: readonly IPAMBlock[]): IPAMBlock[] {
  return [...blocks].sort((a, b) => compareBlockSpecs(a.spec, b.spec) || byString(a.metadata.name, b.metadata.name));
}

function baseOf(block: IPAMBlock): number | undefined {
  try {
    return parseCidr(block.spec.cidr).address;
  } catch {
    return undefined;
  }
}

function rangeOf(pool: IPPool): { start: number; end: number } | undefined {
  const start = pool.spec.rangeStart ? tryParseIPv4(pool.spec.rangeStart) : 0;
  const end = pool.spec.rangeEnd ? tryParseIPv4(pool.spec.rangeEnd) : 0xffffffff;
  return start === undefined || end === undefined ? undefined : { start, end };
}

function validKey(key: string): boolean {
  try {
    blockNameFromKey(key);
    return true;
  } catch {
    return false;
  }
}

function podVerdict(
  block: IPAMBlock,
  ordinals: readonly number[],
  handleId: string,
  pods: ReadonlyMap<string, LivePod>,
  nowMs: number,
  graceMs: number,
): { namespace: string; pod: string; reason: 'PodGone' | 'SandboxChanged'; withinGrace: boolean } | undefined {
  const first = ordinals[0];
  const index = first === undefined ? null : (block.spec.allocations[first] ?? null);
  const secondary = index === null ? undefined : block.spec.attributes[index]?.secondary;
  const namespace = secondary?.[AttributeKey.Namespace];
  const pod = secondary?.[AttributeKey.Pod];
  if (namespace === undefined || pod === undefined || namespace === '' || pod === '') return undefined;
  const live = pods.get(`${namespace}/${pod}`);
  let reason: 'PodGone' | 'SandboxChanged';
  if (live === undefined) reason = 'PodGone';
  else if (live.containerID !== undefined && live.containerID !== '' && !handleMatchesPod(handleId, live)) reason = 'SandboxChanged';
  else return undefined;
  // The youngest row of the holding decides: a pod re-created under the same name must not lose a fresh address.
  let youngest: number | undefined;
  for (const ordinal of ordinals) {
    const row = block.spec.attributes[block.spec.allocations[ordinal] ?? -1];
    const stamp = row?.secondary?.[AttributeKey.Timestamp];
    const time = stamp === undefined ? undefined : parseTimestamp(stamp)?.getTime();
    if (time !== undefined) youngest = youngest === undefined ? time : Math.max(youngest, time);
  }
  const withinGrace = youngest !== undefined && nowMs - youngest < graceMs;
  return { namespace, pod, reason, withinGrace };
}

function desiredBlock(
  handleId: string,
  held: ReadonlyMap<string, Holding>,
  remaining: (handleId: string, holding: Holding) => number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...held.keys()].sort(byString)) {
    const holding = held.get(key);
    const count = holding === undefined ? 0 : remaining(handleId, holding);
    if (count > 0) out[key] = count;
  }
  return out;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function overlaps(blocks: readonly IPAMBlock[]): Finding[] {
  const spans: { name: string; start: number; end: number }[] = [];
  for (const block of blocks) {
    try {
      const cidr = parseCidr(block.spec.cidr);
      spans.push({ name: block.metadata.name, start: cidr.address, end: cidr.address + cidr.size });
    } catch {
      // Broken CIDRs are reported as BrokenBlock.
    }
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end || byString(a.name, b.name));
  const out: Finding[] = [];
  for (let i = 0; i < spans.length; i++) {
    const a = spans[i];
    if (a === undefined) continue;
    for (let j = i + 1; j < spans.length; j++) {
      const b = spans[j];
      if (b === undefined || b.start >= a.end) break;
      out.push({ kind: 'OverlappingBlocks', blockNames: [a.name, b.name] });
    }
  }
  return out;
}

/**
 * The actions present in both plans, for applying only what persisted between two checks taken some time
 * apart: releases of ordinals listed in both (same block and handle), handle deletions in both, and handle
 * updates or creations with the same desired counts in both.
 * @param first - the earlier plan
 * @param second - the later plan
 */
export function stableRepairPlan(first: RepairPlan, second: RepairPlan): RepairPlan {
  const release: ReleaseAction[] = [];
  for (const action of second.release) {
    const earlier = first.release.find((r) => r.blockName === action.blockName && r.handleId === action.handleId);
    if (earlier === undefined) continue;
    const ordinals = action.ordinals.filter((o) => earlier.ordinals.includes(o));
    if (ordinals.length > 0) release.push({ ...action, ordinals });
  }
  const deleteHandles = second.deleteHandles.filter((h) => first.deleteHandles.includes(h));
  const same = (list: readonly HandleAction[], action: HandleAction): boolean =>
    list.some((a) => a.handleId === action.handleId && sameCounts(a.block, action.block));
  return {
    release,
    deleteHandles,
    updateHandles: second.updateHandles.filter((a) => same(first.updateHandles, a)),
    createHandles: second.createHandles.filter((a) => same(first.createHandles, a)),
    recordAddresses: (second.recordAddresses ?? []).filter((r) =>
      (first.recordAddresses ?? []).some((e) => e.blockName === r.blockName && e.address === r.address && e.handleId === r.handleId),
    ),
  };
}
