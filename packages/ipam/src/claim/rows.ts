/**
 * The block side of a node's claim, pure: which addresses a claim holds, what the cluster is told about the pods
 * using them (one attribute row per address, still owned by the claim handle), and returning addresses to the
 * block with the cooldown they were already serving.
 *
 * @packageDocumentation
 */
import type { BlockAddress, CooldownOptions } from '../block.ts';
import { addressOfOrdinal, checkBlock, DEFAULT_RELEASE_COOLDOWN_MS, ordinalOfAddress, releaseOrdinals } from '../block.ts';
import { InvalidBlockError } from '../errors.ts';
import { formatGoTimestamp, parseTimestamp } from '../time.ts';
import type { AllocationAttribute, IPAMBlockSpec } from '../types.ts';
import { AttributeKey } from '../types.ts';
import { CLAIM_NOTE, CLAIM_POD_HANDLE_KEY, claimHandleId } from './naming.ts';

/** A pod using a claimed address, as the node publishes it. */
export interface ClaimedAssignment {
  /** The pod's own handle ID (`<namespace>-<pod>-<containerID>`). */
  readonly handleId: string;
  /** The pod's namespace. */
  readonly namespace: string;
  /** The pod's name. */
  readonly pod: string;
  /** When the address was assigned (RFC 3339). */
  readonly at: string;
}

/** An address a claim holds, with the pod the cluster was last told uses it. */
export interface ClaimedAddress extends BlockAddress {
  /** Undefined = free in the claim (as last published). */
  readonly assignment: ClaimedAssignment | undefined;
}

/** The secondary attributes of a claimed address no pod uses. */
export function claimSecondary(node: string, now: Date): Record<string, string> {
  return { [AttributeKey.Node]: node, [AttributeKey.Note]: CLAIM_NOTE, [AttributeKey.Timestamp]: formatGoTimestamp(now) };
}

function assignmentSecondary(node: string, address: string, a: ClaimedAssignment): Record<string, string> {
  const at = parseTimestamp(a.at) ?? new Date(0);
  return {
    [AttributeKey.Namespace]: a.namespace,
    [AttributeKey.Pod]: a.pod,
    [AttributeKey.Node]: node,
    [AttributeKey.Timestamp]: formatGoTimestamp(at),
    [AttributeKey.Ip]: address,
    [CLAIM_POD_HANDLE_KEY]: a.handleId,
  };
}

function assignmentOf(row: AllocationAttribute): ClaimedAssignment | undefined {
  const s = row.secondary;
  const handleId = s?.[CLAIM_POD_HANDLE_KEY];
  const namespace = s?.[AttributeKey.Namespace];
  const pod = s?.[AttributeKey.Pod];
  if (handleId === undefined || namespace === undefined || pod === undefined) return undefined;
  const at = parseTimestamp(s?.[AttributeKey.Timestamp] ?? '');
  return { handleId, namespace, pod, at: (at ?? new Date(0)).toISOString() };
}

function sound(spec: IPAMBlockSpec): void {
  const problems = checkBlock(spec);
  if (problems.length > 0) throw new InvalidBlockError(spec.cidr, problems);
}

/**
 * The addresses a node's claim holds in a block, ascending.
 * @param spec - the block
 * @param node - the node
 */
export function claimedAddresses(spec: IPAMBlockSpec, node: string): ClaimedAddress[] {
  const handleId = claimHandleId(node);
  const out: ClaimedAddress[] = [];
  spec.allocations.forEach((index, ordinal) => {
    const row = index === null ? undefined : spec.attributes[index];
    if (row?.handle_id !== handleId) return;
    out.push({ ...addressOfOrdinal(spec, ordinal), assignment: assignmentOf(row) });
  });
  return out;
}

/** The outcome of {@link publishClaimView}. */
export interface PublishResult {
  /** The new block spec (the input when nothing changed). */
  readonly block: IPAMBlockSpec;
  /** Whether the block changed. */
  readonly changed: boolean;
  /** Addresses of the view the claim does not hold in this block (nothing was written for them). */
  readonly notClaimed: readonly string[];
}

/**
 * Tells the cluster which pod uses each claimed address: re-points every listed address the claim holds at a row
 * naming its pod (or at a plain claim row when it is free), still owned by the claim handle, so the handle's
 * counts do not change. Rows no longer used are dropped and the others renumbered.
 * @param spec - the block
 * @param node - the node whose claim it is
 * @param view - address → its pod, or undefined for free
 * @param now - the time stamped on rows of addresses that became free
 * @throws {@link InvalidBlockError} when the block's invariant is broken (nothing can be re-pointed safely)
 */
export function publishClaimView(
  spec: IPAMBlockSpec,
  node: string,
  view: ReadonlyMap<string, ClaimedAssignment | undefined>,
  now: Date,
): PublishResult {
  sound(spec);
  const handleId = claimHandleId(node);
  const targets = new Map<number, AllocationAttribute>();
  const notClaimed: string[] = [];
  for (const [address, assignment] of view) {
    let ordinal: number;
    try {
      ordinal = ordinalOfAddress(spec, address);
    } catch {
      notClaimed.push(address);
      continue;
    }
    const index = spec.allocations[ordinal];
    const row = index === null || index === undefined ? undefined : spec.attributes[index];
    if (row?.handle_id !== handleId) {
      notClaimed.push(address);
      continue;
    }
    const current = assignmentOf(row);
    if (assignment === undefined ? current === undefined : current?.handleId === assignment.handleId) continue;
    const secondary =
      assignment === undefined ? { ...claimSecondary(node, now), [AttributeKey.Ip]: address } : assignmentSecondary(node, address, assignment);
    targets.set(ordinal, { handle_id: handleId, secondary });
  }
  if (targets.size === 0) return { block: spec, changed: false, notClaimed };
  return { block: repoint(spec, targets), changed: true, notClaimed };
}

function rowKey(row: AllocationAttribute): string {
  const secondary = row.secondary === undefined ? undefined : Object.entries(row.secondary).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([row.handle_id, secondary]);
}

/** The block with some ordinals pointed at new rows; rows left unused are dropped, identical rows shared. */
function repoint(spec: IPAMBlockSpec, targets: ReadonlyMap<number, AllocationAttribute>): IPAMBlockSpec {
  const attributes: AllocationAttribute[] = [];
  const indexOf = new Map<string, number>();
  const allocations = spec.allocations.map((index, ordinal) => {
    if (index === null) return null;
    const row = targets.get(ordinal) ?? spec.attributes[index];
    if (row === undefined) return index; // unreachable: the block was checked sound
    const key = rowKey(row);
    let at = indexOf.get(key);
    if (at === undefined) {
      at = attributes.length;
      attributes.push(row);
      indexOf.set(key, at);
    }
    return at;
  });
  return { ...spec, allocations, attributes };
}

/** An address going back from a claim to its block. */
export interface ReturnedAddress {
  /** The address. */
  readonly address: string;
  /** When a pod last released it (RFC 3339); its cooldown goes on in the block. Undefined = never used since claimed. */
  readonly releasedAt: string | undefined;
}

/**
 * Gives claimed addresses back to the block. An address a pod released keeps its release time, so the block
 * goes on with the cooldown the node had started; one never used since it was claimed is free at once.
 * Addresses the claim does not hold here are skipped.
 * @param spec - the block
 * @param node - the node whose claim it is
 * @param addresses - what to return
 * @param options - the time and cooldown
 * @returns the new block and the addresses returned
 */
export function returnClaimed(
  spec: IPAMBlockSpec,
  node: string,
  addresses: readonly ReturnedAddress[],
  options: CooldownOptions,
): { block: IPAMBlockSpec; returned: string[] } {
  const handleId = claimHandleId(node);
  const ordinals = new Map<number, ReturnedAddress>();
  for (const item of addresses) {
    let ordinal: number;
    try {
      ordinal = ordinalOfAddress(spec, item.address);
    } catch {
      continue;
    }
    const index = spec.allocations[ordinal];
    const row = index === null || index === undefined ? undefined : spec.attributes[index];
    if (row?.handle_id === handleId) ordinals.set(ordinal, item);
  }
  const result = releaseOrdinals(spec, ordinals.keys(), options);
  if (!result.changed) return { block: spec, returned: [] };
  const releasedAt: Record<string, string> = { ...result.block.releasedAt };
  const cooldownMs = options.cooldownMs ?? DEFAULT_RELEASE_COOLDOWN_MS;
  for (const [ordinal, item] of ordinals) {
    const at = item.releasedAt === undefined ? undefined : parseTimestamp(item.releasedAt);
    if (at === undefined || at.getTime() + cooldownMs <= options.now.getTime()) delete releasedAt[String(ordinal)];
    else releasedAt[String(ordinal)] = at.toISOString();
  }
  const { releasedAt: _dropped, ...rest } = result.block;
  const block = Object.keys(releasedAt).length === 0 ? rest : { ...rest, releasedAt };
  return { block, returned: result.released.map((a) => a.address) };
}
