/**
 * The allocator: {@link Ipam} hands out and takes back pod addresses through any {@link IpamStore}, with
 * compare-and-swap writes, so any number of processes (agents on many nodes, several processes on one host)
 * can allocate at once without ever giving one address to two live handles.
 *
 * Writes per operation: an allocation writes the handle, then the block (2); a repeated allocation for the
 * same handle writes nothing; a release writes each block of the handle, then deletes the handle (2 for a
 * one-block pod); releasing an unknown handle writes nothing. A lost race costs one more block write (and one
 * more handle write only when the allocation moves to another block).
 *
 * @packageDocumentation
 */
import { DEFAULT_RELEASE_COOLDOWN_MS } from './block.ts';
import { missingBlocks } from './blocks.ts';
import type { ConsistencyReport, LivePod, RepairPlan } from './consistency.ts';
import { InvalidArgumentError } from './errors.ts';
import { parseIPv4 } from './address.ts';
import { isDns1123Label, isDns1123Subdomain } from './naming.ts';
import type { IpamStore } from './store.ts';
import type { IPPool } from './types.ts';
import { AttributeKey, RESERVED_HANDLE } from './types.ts';
import { allocateAddress } from './allocator/allocate.ts';
import type { AllocationInput } from './allocator/allocate.ts';
import type { CallContext } from './allocator/context.ts';
import { isAlreadyExists } from './allocator/context.ts';
import type { IpamOperation } from './allocator/events.ts';
import { addressesOfHandle, checkStore, utilisationOf } from './allocator/inspect.ts';
import type { StoreObservers } from './allocator/io.ts';
import { StoreIo } from './allocator/io.ts';
import { releaseHandle } from './allocator/release.ts';
import { applyRepairPlan } from './allocator/repair.ts';
import type { BackoffOptions, Pacer } from './allocator/retry.ts';
import { jitteredBackoff, sleepMs } from './allocator/retry.ts';
import { MappingMemory } from './allocator/mapping-memory.ts';
import type { AllocationSource, ResolvedIpamConfig } from './mapping.ts';
import { resolvedAllocationSources } from './mapping.ts';
import type { ClaimEntry } from './claim/ledger.ts';
import type { ClaimedAssignment, ReturnedAddress } from './claim/rows.ts';
import { publishClaimView, returnClaimed } from './claim/rows.ts';
import type { HeldClaimAddress } from './claim/store-ops.ts';
import { changeBlock, claimCount, readClaim, recountClaimHandle, takeForClaim } from './claim/store-ops.ts';
import { blockKey } from './naming.ts';
import { claimHandleId } from './claim/naming.ts';
import { StartHints } from './allocator/spread.ts';
import type {
  AllocateRequest,
  Allocation,
  EnsurePoolResult,
  HeldAddress,
  IpamUtilisation,
  RepairResult,
} from './allocator/types.ts';

/** Compare-and-swap attempts before {@link MaxRetriesError}, as Calico (Go hostnic: 10, nested up to 100). */
export const DEFAULT_MAX_ATTEMPTS = 100;

/** Options of {@link Ipam}. */
export interface IpamOptions extends StoreObservers {
  /** How long a released address stays unavailable, ms (default 60 s; 0 = reuse at once, FIFO). */
  readonly cooldownMs?: number;
  /**
   * Lost compare-and-swap writes accepted before {@link MaxRetriesError} (default {@link DEFAULT_MAX_ATTEMPTS}):
   * an allocation counts its block writes across all the blocks it tries, and its handle writes apart; a
   * release counts per block and for the handle.
   */
  readonly maxAttempts?: number;
  /** Jittered exponential backoff between attempts, or false for none. */
  readonly backoff?: BackoffOptions | false;
  /** The clock, for requests without `now` (default: the system clock). */
  readonly clock?: () => Date;
  /**
   * Called when the problems of the mapping ConfigMap change (also back to none), with the mapping in force:
   * the valid entries of the new data and the last good entries for the refused ones. For the operator's log.
   */
  readonly onMappingProblems?: (resolved: ResolvedIpamConfig) => void;
  /** Numbers in [0, 1) for the jitter (default `Math.random`). */
  readonly random?: () => number;
  /** How to wait (default: a timer); tests pass an instant one. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Time option of the operations that take one. */
export interface TimeOption {
  /** The current time (default: the allocator's clock). */
  readonly now?: Date | undefined;
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(field, `must be an integer ≥ 1, got ${value}`);
  return value;
}

function checkHandleId(handleId: unknown): string {
  if (typeof handleId !== 'string' || !isDns1123Subdomain(handleId) || handleId === RESERVED_HANDLE) {
    throw new InvalidArgumentError(
      'handleId',
      `${JSON.stringify(handleId)} is not a valid handle ID: use a lower-case RFC 1123 name of at most 253 characters ` +
        `(podHandleId builds one), other than ${RESERVED_HANDLE}`,
    );
  }
  return handleId;
}

function checkText(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(field, 'must be a non-empty string');
  return value;
}

function inputOf(request: AllocateRequest): AllocationInput {
  const handleId = checkHandleId(request.handleId);
  const namespace = checkText('namespace', request.namespace);
  if (!isDns1123Label(namespace)) {
    throw new InvalidArgumentError('namespace', `${JSON.stringify(namespace)} is not a valid namespace name`);
  }
  const pod = checkText('pod', request.pod);
  const node = checkText('node', request.node);
  const fixedIps: string[] = [];
  for (const ip of request.fixedIps ?? []) {
    parseIPv4(ip, 'fixedIps');
    if (!fixedIps.includes(ip)) fixedIps.push(ip);
  }
  for (const [key, value] of Object.entries(request.attributes ?? {})) {
    if (typeof value !== 'string') throw new InvalidArgumentError(`attributes.${key}`, 'must be a string');
  }
  const secondary = {
    ...request.attributes,
    [AttributeKey.Namespace]: namespace,
    [AttributeKey.Pod]: pod,
    [AttributeKey.Node]: node,
  };
  return { handleId, namespace, node, fixedIps, secondary };
}

/**
 * Allocates and releases pod addresses through a store.
 *
 * @example
 * const ipam = new Ipam(store);
 * const a = await ipam.allocate({ handleId: 'default-nginx-abc123', namespace: 'default', pod: 'nginx', node: 'node-1' });
 * await ipam.release('default-nginx-abc123');
 */
export class Ipam {
  /** The store written through. */
  readonly store: IpamStore;
  readonly #observers: StoreObservers;
  readonly #cooldownMs: number;
  readonly #maxAttempts: number;
  readonly #pacer: Pacer;
  readonly #clock: () => Date;
  readonly #hints = new StartHints();
  readonly #mapping: MappingMemory;

  /**
   * @param store - where the IPAM objects live
   * @param options - tuning and observers
   * @throws {@link InvalidArgumentError} for bad options
   */
  constructor(store: IpamStore, options: IpamOptions = {}) {
    this.store = store;
    this.#observers = { onWrite: options.onWrite, onRead: options.onRead };
    const cooldownMs = options.cooldownMs ?? DEFAULT_RELEASE_COOLDOWN_MS;
    if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
      throw new InvalidArgumentError('cooldownMs', `must be a finite number ≥ 0, got ${cooldownMs}`);
    }
    this.#cooldownMs = cooldownMs;
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.#pacer = jitteredBackoff(options.backoff ?? {}, options.random ?? Math.random, options.sleep ?? sleepMs);
    this.#clock = options.clock ?? (() => new Date());
    this.#mapping = new MappingMemory(options.onMappingProblems);
  }

  /**
   * Allocates one address for a handle: from the namespace's blocks, else (manual mode) the
   * `Default` pools; the requested fixed IPs when given. A handle that already holds a suitable address gets it
   * back (`reused: true`) without any write.
   * @param request - handle, pod, node, optional fixed IPs and attributes
   * @throws `NoPoolOrBlockError` when the namespace maps to nothing; `PoolExhaustedError` when every candidate
   *   is full (cooling addresses are mentioned); `FixedIpTakenError`, `FixedIpReservedError`,
   *   `FixedIpCoolingDownError`, `AddressOutOfRangeError` for unusable fixed IPs; `NoQualifiedPoolError` or
   *   `UnknownPoolTypeError` when the only pools are unusable; `MappingRefusedError` when the namespace's entry
   *   of the mapping ConfigMap is refused and had no last good entry (valid entries and last good ones apply);
   *   {@link MaxRetriesError} after `maxAttempts` lost writes; store errors such as `StoreUnavailableError`.
   *   On any error the handle is left as it was.
   */
  async allocate(request: AllocateRequest): Promise<Allocation> {
    const input = inputOf(request);
    return allocateAddress(this.#context('allocate', input.handleId, request.now), input, this.#hints, this.#mapping);
  }

  /**
   * Releases every address of a handle (they cool down before reuse) and deletes the handle. Releasing an
   * unknown handle succeeds and writes nothing.
   * @param handleId - the handle
   * @param options - the time of the release
   * @returns the addresses released
   * @throws {@link MaxRetriesError} after `maxAttempts` lost writes; store errors
   */
  async release(handleId: string, options: TimeOption = {}): Promise<HeldAddress[]> {
    checkHandleId(handleId);
    return releaseHandle(this.#context('release', handleId, options.now), handleId);
  }

  /**
   * The addresses a handle holds.
   * @param handleId - the handle
   */
  async addressesOf(handleId: string): Promise<HeldAddress[]> {
    checkHandleId(handleId);
    return addressesOfHandle(this.#io('inspect', handleId), handleId);
  }

  /**
   * Utilisation per pool, block and namespace. An invalid mapping ConfigMap counts as empty here.
   * @param options - the time, for counting cooling addresses
   */
  async utilisation(options: TimeOption = {}): Promise<IpamUtilisation> {
    return utilisationOf(this.#io('inspect', undefined), { now: options.now ?? this.#clock(), cooldownMs: this.#cooldownMs });
  }

  /**
   * Runs the consistency check (leaks, miscounted or orphan handles, broken blocks) on the store's contents.
   * Act only on what persists: check twice some time apart and repair `stableRepairPlan(first.plan, second.plan)`.
   * @param livePods - every live pod (complete)
   * @param options - the time, the grace period for leaked addresses, and every node of the cluster (given, the
   *   claims of gone nodes are collected)
   */
  async check(
    livePods: readonly LivePod[],
    options: TimeOption & { readonly graceMs?: number; readonly liveNodes?: readonly string[] } = {},
  ): Promise<ConsistencyReport> {
    return checkStore(this.#io('inspect', undefined), livePods, options.now ?? this.#clock(), options.graceMs, options.liveNodes);
  }

  /**
   * Applies a repair plan, re-reading and comparing every object before writing it.
   * @param plan - the plan
   * @param options - the time of the releases
   */
  async repair(plan: RepairPlan, options: TimeOption = {}): Promise<RepairResult> {
    return applyRepairPlan(this.#context('repair', undefined, options.now), plan);
  }

  /**
   * Creates a pool and its missing blocks (what the controller does in a cluster; for embedded setups and
   * tests). An existing pool is kept as stored; blocks are cut from the stored pool.
   * @param pool - the pool
   */
  async ensurePool(pool: IPPool): Promise<EnsurePoolResult> {
    const io = this.#io('setup', undefined);
    let stored = (await io.getPool(pool.metadata.name))?.object;
    let createdPool = false;
    if (stored === undefined) {
      try {
        stored = (await io.createPool(pool)).object;
        createdPool = true;
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        stored = (await io.getPool(pool.metadata.name))?.object ?? pool;
      }
    }
    const existing = (await io.listBlocks({ pool: stored.metadata.name })).map((v) => v.object.metadata.name);
    const createdBlocks: string[] = [];
    for (const block of missingBlocks(stored, existing)) {
      try {
        await io.createBlock(block);
        createdBlocks.push(block.metadata.name);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
    return { createdPool, createdBlocks };
  }

  /** The release cooldown in force, in milliseconds. */
  get cooldownMs(): number {
    return this.#cooldownMs;
  }

  /** The allocator's clock. */
  now(): Date {
    return this.#clock();
  }

  /**
   * Where a namespace's addresses come from under the mapping in force (one read of the mapping ConfigMap).
   * @param namespace - the namespace
   * @throws `MappingRefusedError` when the namespace's entry is refused and had no last good entry
   */
  async sourceOf(namespace: string): Promise<AllocationSource> {
    const io = this.#io('claim', undefined);
    return resolvedAllocationSources(this.#mapping.resolve((await io.getIpamConfig())?.object), namespace);
  }

  /**
   * Takes up to `count` addresses of a source for a node's claim (handle `claim.<node>`): one write per block
   * used plus one handle write. Fewer (or none) when the source runs short.
   * @param node - the node
   * @param source - from {@link Ipam.sourceOf}
   * @param count - how many
   * @param options - the time
   * @returns ledger entries for the new addresses, free and published
   */
  async claim(node: string, source: AllocationSource, count: number, options: TimeOption = {}): Promise<ClaimEntry[]> {
    const handleId = claimHandleId(node);
    positiveInteger('count', count);
    return takeForClaim(this.#context('claim', handleId, options.now), node, source, count, this.#hints);
  }

  /**
   * Tells the cluster which pods use a node's claimed addresses in one block: one write, none when the block
   * already says so.
   * @param node - the node
   * @param block - the block's name
   * @param view - address → the pod using it, or undefined when free
   * @param options - the time
   * @returns the addresses the claim does not hold in that block (the node must stop using them as claimed)
   */
  async publishClaim(
    node: string,
    block: string,
    view: ReadonlyMap<string, ClaimedAssignment | undefined>,
    options: TimeOption = {},
  ): Promise<{ written: boolean; notClaimed: readonly string[] }> {
    const ctx = this.#context('claim', claimHandleId(node), options.now);
    let notClaimed: readonly string[] = [...view.keys()];
    const done = await changeBlock(ctx, block, claimHandleId(node), (spec) => {
      const r = publishClaimView(spec, node, view, ctx.now);
      notClaimed = r.notClaimed;
      return r.changed ? { spec: r.block, result: true } : undefined;
    });
    return { written: done !== undefined, notClaimed };
  }

  /**
   * Gives addresses of a node's claim back to their block (one block write and one handle write); an address a
   * pod released keeps cooling down in the block from its release time.
   * @param node - the node
   * @param block - the block's name
   * @param addresses - the addresses and their release times
   * @param options - the time
   * @returns the addresses returned
   */
  async returnToBlock(node: string, block: string, addresses: readonly ReturnedAddress[], options: TimeOption = {}): Promise<string[]> {
    const ctx = this.#context('claim', claimHandleId(node), options.now);
    const done = await changeBlock(ctx, block, claimHandleId(node), (spec) => {
      const r = returnClaimed(spec, node, addresses, { now: ctx.now, cooldownMs: ctx.cooldownMs });
      return r.returned.length === 0 ? undefined : { spec: r.block, result: r.returned };
    });
    if (done === undefined) return [];
    const spec = done.block.spec;
    await recountClaimHandle(ctx, node, new Map([[blockKey(spec.id, spec.cidr), claimCount(spec, node)]]));
    return done.result;
  }

  /**
   * What a node's claim holds, as the cluster sees it.
   * @param node - the node
   */
  async claimOf(node: string): Promise<HeldClaimAddress[]> {
    return readClaim(this.#context('claim', claimHandleId(node), undefined), node);
  }

  #io(operation: IpamOperation, handleId: string | undefined): StoreIo {
    return new StoreIo(this.store, this.#observers, operation, handleId);
  }

  #context(operation: IpamOperation, handleId: string | undefined, now: Date | undefined): CallContext {
    return {
      io: this.#io(operation, handleId),
      now: now ?? this.#clock(),
      cooldownMs: this.#cooldownMs,
      maxAttempts: this.#maxAttempts,
      pacer: this.#pacer,
    };
  }
}
