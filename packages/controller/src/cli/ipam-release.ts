/**
 * `ipam release`: the decisions, as pure functions. Safety first: an address is released
 * only when it is allocated and no existing pod holds it (unless forced); exactly that address is released,
 * never the rest of its handle; and the outcome is read from what the store did, so a lost race is reported
 * as such instead of as a success.
 */
import type { IPAMBlock, IPAMHandle, RepairPlan, RepairResult } from '@hostnic/ipam';
import { addressOfOrdinal, blockKey, handleOrdinals, isDns1123Subdomain, RESERVED_HANDLE, sortBlocks } from '@hostnic/ipam';
import type { AddressLocation, PodName } from './ipam-show.ts';
import { podOf } from './ipam-show.ts';
import { plural } from './table.ts';

/** What happened to one `--ip` or `--handle`. */
export type ReleaseStatus = 'released' | 'would-release' | 'partly-released' | 'not-released' | 'refused' | 'failed';

/** The planned change of the IPAMHandle that goes with a release. */
export type HandleChange = 'none' | 'correct' | 'delete';

/** The outcome for one target (JSON keys are stable; absent facts are null). */
export interface ReleaseOutcome {
  /** `address` for `--ip`, `handle` for `--handle`. */
  readonly kind: 'address' | 'handle';
  /** The address or handle ID as given. */
  readonly target: string;
  readonly status: ReleaseStatus;
  /** Addresses released, or that would be in a dry run. */
  readonly addresses: readonly string[];
  /** The block of an `--ip`. */
  readonly block: string | null;
  readonly handleId: string | null;
  /** The pods the allocations' attributes name. */
  readonly pods: readonly PodName[];
  readonly handleChange: HandleChange;
  /** Whether the handle change was written (null in a dry run or when there is none). */
  readonly handleChangeApplied: boolean | null;
  /** Why it was refused, not (fully) released, or failed. */
  readonly reason: string | null;
  readonly warnings: readonly string[];
  /** The plan applied, or that a dry run would apply. */
  readonly plan: RepairPlan | null;
}

const EMPTY_PLAN: RepairPlan = { release: [], deleteHandles: [], updateHandles: [], createHandles: [] };

/**
 * A refusal: nothing was written.
 * @param kind - address or handle
 * @param target - as given
 * @param reason - why, and what to do instead
 * @param extra - facts known so far
 */
export function refused(kind: ReleaseOutcome['kind'], target: string, reason: string, extra: Partial<ReleaseOutcome> = {}): ReleaseOutcome {
  return {
    kind,
    target,
    status: 'refused',
    addresses: [],
    block: null,
    handleId: null,
    pods: [],
    handleChange: 'none',
    handleChangeApplied: null,
    reason,
    warnings: [],
    plan: null,
    ...extra,
  };
}

/**
 * Refuses an `--ip` whose address is not allocated to a handle, with a message that says why and what to do.
 * @param target - the address as given
 * @param location - where it is
 * @returns the refusal, or undefined when it is allocated to a handle
 */
export function refuseLocation(target: string, location: AddressLocation): ReleaseOutcome | undefined {
  const a = location.address;
  switch (location.state) {
    case 'unmanaged':
      return refused(
        'address',
        target,
        location.pool === undefined
          ? `${a} is not in any IP pool: hostnic holds nothing to release`
          : `${a} is in pool ${location.pool} but in no IPAM block: there is nothing to release`,
      );
    case 'free':
      return refused('address', target, `${a} is free: there is nothing to release`, { block: location.place.block });
    case 'cooling':
      return refused(
        'address',
        target,
        `${a} is free (released, cooling down until ${location.coolingUntil.toISOString()}): there is nothing to release`,
        { block: location.place.block },
      );
    case 'reserved':
      return refused(
        'address',
        target,
        `${a} is reserved (outside the pod range of pool ${location.place.pool ?? '?'}): reserved addresses are never allocated and cannot be released`,
        { block: location.place.block },
      );
    case 'damaged':
      return refused(
        'address',
        target,
        `${a} is neither free nor allocated in block ${location.place.block} (the block is damaged): run \`ipam check\` to see the damage`,
        { block: location.place.block },
      );
    case 'allocated':
      if (location.handleId === undefined || location.handleId === RESERVED_HANDLE) {
        return refused(
          'address',
          target,
          `${a} is allocated in block ${location.place.block} without an owner handle (the block is damaged): run \`ipam check\``,
          { block: location.place.block },
        );
      }
      return undefined;
  }
}

/**
 * Why the pods named by allocations forbid releasing them, unless forced.
 * @param what - the addresses or handle, for the message
 * @param pods - the pods named
 * @param existing - those of them that exist
 * @param unnamed - how many allocations name no pod
 * @param force - `--force`
 * @returns the refusal reason and warnings (warnings only when forced)
 */
export function podVerdict(
  what: string,
  pods: readonly PodName[],
  existing: readonly PodName[],
  unnamed: number,
  force: boolean,
): { refusal: string | undefined; warnings: string[] } {
  const problems: string[] = [];
  if (existing.length > 0) {
    const names = existing.map((p) => `${p.namespace}/${p.name}`).join(', ');
    problems.push(`${what} belongs to ${existing.length === 1 ? 'pod' : 'pods'} ${names}, which still ${existing.length === 1 ? 'exists' : 'exist'}`);
  }
  if (unnamed > 0) {
    problems.push(
      pods.length === 0 && unnamed === 1
        ? `${what} names no pod, so whether it is still in use cannot be checked`
        : `${plural(unnamed, 'address', 'addresses')} of ${what} ${unnamed === 1 ? 'names' : 'name'} no pod, so whether ` +
            `${unnamed === 1 ? 'it is' : 'they are'} still in use cannot be checked`,
    );
  }
  if (problems.length === 0) return { refusal: undefined, warnings: [] };
  if (force) return { refusal: undefined, warnings: problems.map((p) => `${p}; released anyway because of --force`) };
  const fix =
    existing.length > 0
      ? 'delete the pod (its CNI DEL releases the address), or pass --force if you are sure the address is not in use'
      : 'pass --force if you are sure it is not in use';
  return { refusal: `${problems.join('; ')}: ${fix}`, warnings: [] };
}

/** Addresses a handle holds, per block key (`<id>-<cidr>`), over the given blocks. */
function holdingsOf(blocks: readonly IPAMBlock[], handleId: string): Map<string, { block: IPAMBlock; ordinals: number[] }> {
  const out = new Map<string, { block: IPAMBlock; ordinals: number[] }>();
  for (const block of sortBlocks(blocks.filter((b) => !b.spec.deleted))) {
    const ordinals = handleOrdinals(block.spec, handleId);
    if (ordinals.length > 0) out.set(blockKey(block.spec.id, block.spec.cidr), { block, ordinals });
  }
  return out;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * The plan that releases one address and leaves its handle consistent: the handle's counts become what the
 * blocks hold once the address is gone (which also fixes a count that was already off), or the handle is
 * deleted when nothing is left. `Ipam.repair` re-reads every object before writing, so a plan made on a stale
 * read changes nothing that moved meanwhile.
 * @param blocks - all blocks, the address's block freshly read
 * @param handle - the holder's IPAMHandle, when it exists
 * @param blockName - the address's block
 * @param handleId - the holder
 * @param ordinal - the address's ordinal in the block
 */
export function addressReleasePlan(
  blocks: readonly IPAMBlock[],
  handle: IPAMHandle | undefined,
  blockName: string,
  handleId: string,
  ordinal: number,
): { plan: RepairPlan; handleChange: HandleChange } {
  const release = [{ blockName, handleId, ordinals: [ordinal] }];
  if (handle === undefined) return { plan: { ...EMPTY_PLAN, release }, handleChange: 'none' };
  const desired: Record<string, number> = {};
  for (const [key, { block, ordinals }] of holdingsOf(blocks, handleId)) {
    const left = ordinals.filter((o) => !(block.metadata.name === blockName && o === ordinal)).length;
    if (left > 0) desired[key] = (desired[key] ?? 0) + left;
  }
  if (Object.keys(desired).length === 0) return { plan: { ...EMPTY_PLAN, release, deleteHandles: [handleId] }, handleChange: 'delete' };
  if (sameCounts(desired, handle.spec.block)) return { plan: { ...EMPTY_PLAN, release }, handleChange: 'none' };
  return { plan: { ...EMPTY_PLAN, release, updateHandles: [{ handleId, block: desired }] }, handleChange: 'correct' };
}

/** What a handle holds, for `--handle`. */
export interface HandleHoldings {
  /** Every address, in block order. */
  readonly addresses: readonly string[];
  /** Distinct pods named by the addresses' attributes. */
  readonly pods: readonly PodName[];
  /** Addresses whose attributes name no pod. */
  readonly unnamed: number;
  /** Releases of every address (over all blocks, also those the handle does not count), then the handle's deletion. */
  readonly plan: RepairPlan;
}

/**
 * What releasing a whole handle means: every address any block holds for it (also blocks its counts miss),
 * then the deletion of the IPAMHandle.
 * @param blocks - all blocks
 * @param handle - the IPAMHandle, when it exists
 * @param handleId - the handle
 */
export function handleReleasePlan(blocks: readonly IPAMBlock[], handle: IPAMHandle | undefined, handleId: string): HandleHoldings {
  const addresses: string[] = [];
  const pods = new Map<string, PodName>();
  let unnamed = 0;
  const release: { blockName: string; handleId: string; ordinals: number[] }[] = [];
  for (const { block, ordinals } of holdingsOf(blocks, handleId).values()) {
    release.push({ blockName: block.metadata.name, handleId, ordinals });
    for (const ordinal of ordinals) {
      addresses.push(addressText(block, ordinal));
      const index = block.spec.allocations[ordinal];
      const pod = podOf(index === undefined || index === null ? undefined : block.spec.attributes[index]);
      if (pod === undefined) unnamed++;
      else pods.set(`${pod.namespace}/${pod.name}`, pod);
    }
  }
  return {
    addresses,
    pods: [...pods.values()],
    unnamed,
    plan: { ...EMPTY_PLAN, release, deleteHandles: handle === undefined ? [] : [handleId] },
  };
}

function addressText(block: IPAMBlock, ordinal: number): string {
  try {
    return addressOfOrdinal(block.spec, ordinal).address;
  } catch {
    return `${block.metadata.name}#${ordinal}`;
  }
}

/**
 * Checks a `--handle` argument.
 * @param handleId - as given
 * @returns the refusal, or undefined when it is a possible handle ID
 */
export function refuseHandleId(handleId: string): ReleaseOutcome | undefined {
  if (handleId === RESERVED_HANDLE) {
    return refused('handle', handleId, `${RESERVED_HANDLE} owns the reserved addresses of every block and cannot be released`);
  }
  if (!isDns1123Subdomain(handleId)) {
    return refused(
      'handle',
      handleId,
      `${JSON.stringify(handleId)} is not a handle ID: handle IDs are lower-case RFC 1123 names like default-nginx-<container ID> (\`ipam show --ip <address>\` shows an address's handle)`,
    );
  }
  return undefined;
}

/**
 * The outcome of an applied `--ip` plan, read from what `Ipam.repair` reports.
 * @param base - the facts known before the write
 * @param result - what the repair did
 */
export function addressOutcome(
  base: { target: string; address: string; block: string; handleId: string; pods: readonly PodName[]; handleChange: HandleChange; plan: RepairPlan; warnings: readonly string[] },
  result: RepairResult,
): ReleaseOutcome {
  const released = result.released.some((r) => r.block === base.block && r.handleId === base.handleId && r.addresses.includes(base.address));
  const skip = result.skipped.find((s) => s.action === 'release');
  const warnings = [...base.warnings];
  const applied = handleChangeApplied(base.handleChange, base.handleId, result);
  if (released && applied === false) warnings.push(handleSkipWarning(base.handleId, result));
  return {
    kind: 'address',
    target: base.target,
    status: released ? 'released' : 'not-released',
    addresses: released ? [base.address] : [],
    block: base.block,
    handleId: base.handleId,
    pods: base.pods,
    handleChange: base.handleChange,
    handleChangeApplied: applied,
    reason: released
      ? null
      : `block ${base.block} changed before the release was written (${skip?.reason ?? 'the address was no longer held by the handle'}): ` +
        `nothing was released; \`ipam show --ip ${base.address}\` shows who holds it now`,
    warnings,
    plan: base.plan,
  };
}

/**
 * The outcome of an applied `--handle` plan.
 * @param base - the facts known before the write
 * @param result - what the repair did
 */
export function handleOutcome(
  base: { target: string; holdings: HandleHoldings; handleChange: HandleChange; warnings: readonly string[] },
  result: RepairResult,
): ReleaseOutcome {
  const released = result.released.flatMap((r) => r.addresses);
  const planned = base.holdings.addresses;
  const missed = planned.filter((a) => !released.includes(a));
  const lost = result.skipped.filter((s) => s.action === 'release');
  const applied = handleChangeApplied(base.handleChange, base.target, result);
  const warnings = [...base.warnings];
  let status: ReleaseStatus;
  let reason: string | null = null;
  if (missed.length === 0) {
    status = 'released';
    if (applied === false) warnings.push(handleSkipWarning(base.target, result));
  } else {
    status = released.length === 0 ? 'not-released' : 'partly-released';
    const why = lost.map((s) => `${s.target}: ${s.reason}`).join('; ');
    reason =
      `${missed.join(', ')} not released: the blocks changed before the release was written` +
      `${why === '' ? '' : ` (${why})`}; \`ipam show --ip <address>\` shows who holds them now`;
    if (applied === false) warnings.push(handleSkipWarning(base.target, result));
  }
  return {
    kind: 'handle',
    target: base.target,
    status,
    addresses: released,
    block: null,
    handleId: base.target,
    pods: base.holdings.pods,
    handleChange: base.handleChange,
    handleChangeApplied: applied,
    reason,
    warnings,
    plan: base.holdings.plan,
  };
}

function handleChangeApplied(change: HandleChange, handleId: string, result: RepairResult): boolean | null {
  if (change === 'none') return null;
  const done = change === 'delete' ? result.deletedHandles : result.updatedHandles;
  return done.includes(handleId);
}

function handleSkipWarning(handleId: string, result: RepairResult): string {
  const skip = result.skipped.find((s) => s.action !== 'release' && s.target === handleId);
  return (
    `handle ${handleId} was not corrected (${skip?.reason ?? 'it changed meanwhile'}): ` +
    '`ipam check` reports its counts and the controller repairs them'
  );
}

/**
 * A dry-run outcome: what would be written.
 * @param base - the facts and the plan
 */
export function wouldRelease(base: Omit<ReleaseOutcome, 'status' | 'handleChangeApplied' | 'reason'>): ReleaseOutcome {
  return { ...base, status: 'would-release', handleChangeApplied: null, reason: null };
}

const STATUS_WORDS: Readonly<Record<ReleaseStatus, string>> = {
  released: 'released',
  'would-release': 'would release',
  'partly-released': 'PARTLY released',
  'not-released': 'NOT released',
  refused: 'refused',
  failed: 'FAILED',
};

function describeTarget(o: ReleaseOutcome): string {
  const facts: string[] = [];
  if (o.kind === 'handle' && o.addresses.length > 0) facts.push(o.addresses.join(', '));
  if (o.block !== null) facts.push(`block ${o.block}`);
  if (o.kind === 'address' && o.handleId !== null) facts.push(`handle ${o.handleId}`);
  if (o.pods.length > 0) facts.push(`${o.pods.length === 1 ? 'pod' : 'pods'} ${o.pods.map((p) => `${p.namespace}/${p.name}`).join(', ')}`);
  return facts.length === 0 ? '' : ` (${facts.join(', ')})`;
}

function describeHandleChange(o: ReleaseOutcome): string {
  if (o.handleChange === 'none' || o.handleId === null) return '';
  if (o.status === 'would-release') {
    return o.handleChange === 'delete'
      ? `; would delete handle ${o.handleId} (nothing left)`
      : `; would correct the counts of handle ${o.handleId}`;
  }
  if (o.handleChangeApplied !== true) return '';
  return o.handleChange === 'delete' ? `; deleted handle ${o.handleId}` : `; corrected the counts of handle ${o.handleId}`;
}

/**
 * The text of the outcomes: one line per target (with warnings under it), then a summary.
 * @param outcomes - per target, in the order given
 * @param dryRun - `--dry-run`
 */
export function renderReleaseOutcomes(outcomes: readonly ReleaseOutcome[], dryRun: boolean): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    const head = `${STATUS_WORDS[o.status]} ${o.target}`;
    if (o.status === 'released' || o.status === 'would-release') lines.push(`${head}${describeTarget(o)}${describeHandleChange(o)}`);
    else lines.push(`${head}${o.status === 'partly-released' ? describeTarget(o) : ''}: ${o.reason ?? 'unknown reason'}`);
    for (const w of o.warnings) lines.push(`  warning: ${w}`);
  }
  const tally = new Map<ReleaseStatus, number>();
  for (const o of outcomes) tally.set(o.status, (tally.get(o.status) ?? 0) + 1);
  const summary = [...tally].map(([status, n]) => `${n} ${STATUS_WORDS[status].toLowerCase()}`).join(', ');
  lines.push(dryRun ? `Dry run, nothing was written: ${summary}.` : `${summary[0]?.toUpperCase() ?? ''}${summary.slice(1)}.`);
  return `${lines.join('\n')}\n`;
}
