/**
 * A node's address claim (docs/ipam.md#node-claims): addresses held for the node ahead of demand and handed to
 * its pods locally, with the node's durable ledger as the truth inside the claim. A warm allocation makes no
 * store call at all; a release only writes the ledger. The cluster learns each pod's address in the background,
 * one block write for many pods, and the claim is refilled below its low mark and trimmed above its high mark
 * there too.
 *
 * Invariants:
 * - An address is handed out only while the node's ledger lists it, and the ledger lists only addresses the
 *   store records for the node's claim handle (taken with compare-and-swap), so no other node can have it.
 * - Inside the node, the choice and the marking of an address happen in one synchronous step, so two
 *   allocations of the process never take the same entry; the ledger write follows before the address is
 *   returned.
 * - A released address serves no pod before the cooldown, in the claim or, once given back, in its block.
 * - Fixed IPs bypass the claim (a free claimed address that is asked for is given back to its block first).
 *
 * @packageDocumentation
 */
import type { Ipam } from '../allocator.ts';
import type { AllocateRequest, Allocation } from '../allocator/types.ts';
import type { AllocationSource } from '../mapping.ts';
import type { ClaimEntry, ClaimLedger } from './ledger.ts';
import { eligibleFor, readyFor, trimChoice } from './pick.ts';
import type { ClaimedAssignment } from './rows.ts';
import type { WarmIps } from './warm.ts';
import { DEFAULT_WARM_IPS, validateWarmIps } from './warm.ts';
import { claimHandleId } from './naming.ts';

/** Refills an allocation waits for before it goes to the allocator: a burst is served by the first, as a rule. */
const MAX_REFILL_ROUNDS = 3;

/** How long changes collect before a background sync publishes them: 250 ms. */
export const DEFAULT_CLAIM_BATCH_MS = 250;

/** The allocator as a claim uses it. */
export type ClaimIpam = Pick<
  Ipam,
  'allocate' | 'release' | 'sourceOf' | 'claim' | 'publishClaim' | 'returnToBlock' | 'claimOf' | 'cooldownMs' | 'now'
>;

/** Options of {@link NodeClaim.open}. */
export interface NodeClaimOptions {
  /** The allocator (and through it the store). */
  readonly ipam: ClaimIpam;
  /** The node's durable ledger. */
  readonly ledger: ClaimLedger;
  /** The node. */
  readonly node: string;
  /** The warm-address marks; default {@link DEFAULT_WARM_IPS}. */
  readonly warm?: WarmIps | undefined;
  /** Namespaces whose source is kept warm from the start; default `['default']`. */
  readonly warmNamespaces?: readonly string[] | undefined;
  /**
   * How a background sync is started after an allocation or a release: default a timer of
   * {@link DEFAULT_CLAIM_BATCH_MS}, so that the pod path never waits for it and the ADDs and DELs of that time
   * are published together (one write per block). Tests pass a no-op and call {@link NodeClaim.sync} themselves.
   */
  readonly schedule?: ((run: () => void) => void) | undefined;
  /** Told about background failures and addresses the store no longer records for the claim. */
  readonly onProblem?: ((problem: ClaimProblem) => void) | undefined;
}

/** Something a background sync could not do; retried at the next one. */
export type ClaimProblem =
  | { readonly kind: 'SyncFailed'; readonly step: 'sources' | 'publish' | 'reconcile' | 'refill' | 'trim'; readonly error: unknown }
  | { readonly kind: 'AssignedNotClaimed'; readonly address: string; readonly handleId: string };

/** What one sync did. */
export interface ClaimSyncReport {
  /** Blocks written to publish assignments. */
  readonly published: number;
  /** Addresses taken into the claim. */
  readonly claimed: number;
  /** Addresses given back to their blocks. */
  readonly returned: number;
  /** Free ledger entries the store no longer records for the claim, dropped. */
  readonly dropped: number;
  /** Claimed addresses the ledger did not know, adopted as free. */
  readonly adopted: number;
}

/** Counts of the claim, for metrics and introspection. */
export interface ClaimCounts {
  readonly assigned: number;
  readonly ready: number;
  readonly cooling: number;
  readonly unpublished: number;
}

function sourceKey(source: AllocationSource): string {
  return `${source.kind}:${source.names.join(',')}`;
}

/** A node's claim; see the module documentation. */
export class NodeClaim {
  readonly #ipam: ClaimIpam;
  readonly #ledger: ClaimLedger;
  readonly #node: string;
  readonly #warm: WarmIps;
  readonly #schedule: (run: () => void) => void;
  readonly #onProblem: (problem: ClaimProblem) => void;
  readonly #entries = new Map<string, ClaimEntry>();
  readonly #byHandle = new Map<string, string>();
  readonly #sources = new Map<string, AllocationSource>();
  // The refill under way per source: allocations that find the claim empty meanwhile wait for it instead of
  // claiming for themselves (concurrent claims of one block lose compare-and-swap races and take too much).
  readonly #refills = new Map<string, { readonly done: Promise<number>; demand: number }>();
  #syncing: Promise<ClaimSyncReport> | undefined;
  // Ledger entries from before this process are trusted only once compared with the store: the controller may
  // have collected the claim meanwhile (a node taken for gone).
  #reconciled = false;
  // Addresses given back to their block: out of the ledger, maybe still claimed in the store or in a reconcile's
  // read of it. A reconcile must not adopt them again, or the node could use an address another node takes from
  // the block: an address stays here (undefined while leaving, else the tick its give-back ended) until a
  // reconcile whose read began after that end.
  readonly #left = new Map<string, number | undefined>();
  #tick = 0;
  #scheduled = false;
  #stopped = false;

  private constructor(o: NodeClaimOptions) {
    this.#ipam = o.ipam;
    this.#ledger = o.ledger;
    claimHandleId(o.node);
    this.#node = o.node;
    this.#warm = validateWarmIps(o.warm ?? DEFAULT_WARM_IPS);
    this.#schedule = o.schedule ?? ((run) => void setTimeout(run, DEFAULT_CLAIM_BATCH_MS).unref());
    this.#onProblem = o.onProblem ?? (() => {});
  }

  /**
   * Loads the ledger. Call {@link NodeClaim.sync} with `reconcile: true` before serving, so that the ledger and
   * the store agree.
   * @throws {@link InvalidArgumentError} for a bad node name or marks
   */
  static async open(o: NodeClaimOptions): Promise<NodeClaim> {
    const claim = new NodeClaim(o);
    for (const e of await o.ledger.load()) claim.#set(e);
    for (const ns of o.warmNamespaces ?? ['default']) {
      try {
        claim.#sources.set(ns, await o.ipam.sourceOf(ns));
      } catch (error) {
        claim.#onProblem({ kind: 'SyncFailed', step: 'sources', error });
      }
    }
    return claim;
  }

  /** Stops scheduling background syncs; resolves when a sync under way has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#syncing?.catch(() => undefined);
  }

  /** Whether the ledger has been compared with the store since it was loaded (warm allocations wait for it). */
  get reconciled(): boolean {
    return this.#reconciled;
  }

  /**
   * One address for a pod: from the claim when it holds a ready address for the pod's source (no store call);
   * otherwise the claim is refilled first; fixed IPs, namespaces whose source the claim cannot serve, and every
   * request before the first reconcile go to the allocator.
   * @param request - as for `Ipam.allocate`
   */
  async allocate(request: AllocateRequest): Promise<Allocation> {
    const fixedIps = request.fixedIps ?? [];
    if (fixedIps.length > 0) {
      await this.#giveBackFree(fixedIps, request.now);
      return this.#ipam.allocate(request);
    }
    const held = this.#byHandle.get(request.handleId);
    const owned = held === undefined ? undefined : this.#entries.get(held);
    if (owned !== undefined) return { ...this.#allocationOf(owned), reused: true };
    if (!this.#reconciled) {
      this.#kick();
      return this.#ipam.allocate(request);
    }

    let source = this.#sources.get(request.namespace);
    if (source === undefined) {
      source = await this.#ipam.sourceOf(request.namespace);
      this.#sources.set(request.namespace, source);
    }
    const now = request.now ?? this.#ipam.now();
    let taken = this.#take(source, request, now);
    // A burst larger than the ready addresses: one shared refill serves it; a waiter that still finds none
    // (later allocations took what it brought) joins or starts the next one, a bounded number of times.
    for (let round = 0; taken === undefined && round < MAX_REFILL_ROUNDS; round++) {
      if ((await this.#sharedRefill(source, now, 1)) === 0 && this.#ready(source, now).length === 0) break;
      taken = this.#take(source, request, now);
    }
    if (taken === undefined) return this.#ipam.allocate(request);
    const { entry, before } = taken;
    try {
      await this.#ledger.put([entry]);
    } catch (error) {
      if (this.#entries.get(entry.address) === entry) this.#set(before);
      throw error;
    }
    this.#kick();
    return this.#allocationOf(entry);
  }

  /**
   * Releases a pod's address: back into the claim (cooling down) with one ledger write when the claim
   * assigned it; otherwise through the allocator.
   * @param handleId - the pod's handle
   * @param options - the time of the release
   * @returns the addresses released
   */
  async release(handleId: string, options: { readonly now?: Date | undefined } = {}): Promise<readonly { readonly address: string }[]> {
    const address = this.#byHandle.get(handleId);
    const entry = address === undefined ? undefined : this.#entries.get(address);
    if (entry === undefined) return this.#ipam.release(handleId, options);
    const now = options.now ?? this.#ipam.now();
    const freed: ClaimEntry = { ...entry, assignment: undefined, releasedAt: now.toISOString(), published: false };
    this.#set(freed);
    try {
      await this.#ledger.put([freed]);
    } catch (error) {
      this.#set(entry);
      throw error;
    }
    this.#kick();
    return [{ address: entry.address }];
  }

  /** The pod using an address of the claim, if any. */
  assignmentOf(address: string): ClaimedAssignment | undefined {
    return this.#entries.get(address)?.assignment;
  }

  /** Every entry of the claim (copies). */
  entries(): ClaimEntry[] {
    return [...this.#entries.values()];
  }

  /** @param now - the time, for telling ready from cooling */
  counts(now: Date = this.#ipam.now()): ClaimCounts {
    let assigned = 0;
    let ready = 0;
    let cooling = 0;
    let unpublished = 0;
    const nowMs = now.getTime();
    for (const e of this.#entries.values()) {
      if (!e.published) unpublished++;
      if (e.assignment !== undefined) assigned++;
      else if (readyFor([e], { kind: 'pools', names: [e.pool] }, nowMs, this.#ipam.cooldownMs).length > 0) ready++;
      else cooling++;
    }
    return { assigned, ready, cooling, unpublished };
  }

  /**
   * Publishes assignments (one write per block with changes), refills and trims; with `reconcile`, first
   * refreshes the namespace sources and compares the ledger with the store (adopting claimed addresses the
   * ledger lost, dropping free entries the store no longer records). Runs one at a time: a call during a sync
   * runs another one after it.
   * @param options - `reconcile` for the periodic full pass; `now` for tests
   */
  async sync(options: { readonly reconcile?: boolean; readonly now?: Date } = {}): Promise<ClaimSyncReport> {
    while (this.#syncing !== undefined) {
      await this.#syncing.catch(() => undefined);
    }
    const run = this.#syncOnce(options.reconcile ?? false, options.now ?? this.#ipam.now());
    this.#syncing = run;
    try {
      return await run;
    } finally {
      this.#syncing = undefined;
    }
  }

  async #syncOnce(reconcile: boolean, now: Date): Promise<ClaimSyncReport> {
    let published = 0;
    let claimed = 0;
    let returned = 0;
    let dropped = 0;
    let adopted = 0;
    const step = async (name: 'sources' | 'publish' | 'reconcile' | 'refill' | 'trim', run: () => Promise<void>): Promise<void> => {
      try {
        await run();
      } catch (error) {
        this.#onProblem({ kind: 'SyncFailed', step: name, error });
      }
    };
    if (reconcile) {
      await step('sources', async () => {
        for (const ns of this.#sources.keys()) this.#sources.set(ns, await this.#ipam.sourceOf(ns));
      });
      await step('reconcile', async () => {
        const r = await this.#reconcile(now);
        dropped += r.dropped;
        adopted += r.adopted;
        this.#reconciled = true;
      });
    }
    await step('publish', async () => {
      const r = await this.#publish(now);
      published += r.published;
      dropped += r.dropped;
    });
    if (!this.#reconciled) return { published, claimed, returned, dropped, adopted };
    await step('refill', async () => {
      const seen = new Set<string>();
      for (const source of this.#sources.values()) {
        const key = sourceKey(source);
        if (seen.has(key)) continue;
        seen.add(key);
        if (this.#ready(source, now).length < this.#warm.minimum) claimed += await this.#sharedRefill(source, now, 0);
      }
    });
    await step('trim', async () => {
      returned += await this.#trim(now);
    });
    return { published, claimed, returned, dropped, adopted };
  }

  #kick(): void {
    if (this.#stopped || this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      if (this.#stopped) return;
      void this.sync({ reconcile: !this.#reconciled }).catch((error: unknown) => this.#onProblem({ kind: 'SyncFailed', step: 'publish', error }));
    });
  }

  #ready(source: AllocationSource, now: Date): ClaimEntry[] {
    return readyFor(this.#entries.values(), source, now.getTime(), this.#ipam.cooldownMs);
  }

  /** Chooses and marks a ready entry in one synchronous step (see the invariants). */
  #take(source: AllocationSource, request: AllocateRequest, now: Date): { entry: ClaimEntry; before: ClaimEntry } | undefined {
    const before = this.#ready(source, now)[0];
    if (before === undefined) return undefined;
    const assignment: ClaimedAssignment = { handleId: request.handleId, namespace: request.namespace, pod: request.pod, at: now.toISOString() };
    const entry: ClaimEntry = { ...before, assignment, releasedAt: undefined, published: false };
    this.#set(entry);
    return { entry, before };
  }

  #set(entry: ClaimEntry): void {
    const previous = this.#entries.get(entry.address);
    if (previous?.assignment !== undefined) this.#byHandle.delete(previous.assignment.handleId);
    this.#entries.set(entry.address, entry);
    if (entry.assignment !== undefined) this.#byHandle.set(entry.assignment.handleId, entry.address);
  }

  #delete(address: string): void {
    const previous = this.#entries.get(address);
    if (previous?.assignment !== undefined) this.#byHandle.delete(previous.assignment.handleId);
    this.#entries.delete(address);
  }

  #allocationOf(e: ClaimEntry): Allocation {
    return { address: e.address, addressWithPrefix: e.addressWithPrefix, pool: e.pool, block: e.block, gateway: e.gateway, reused: false, fixed: false };
  }

  /**
   * The source's refill under way, joined with `demand` more addresses wanted beyond the target when it has not
   * asked the store yet, or a new one.
   * @returns the addresses it took
   */
  #sharedRefill(source: AllocationSource, now: Date, demand: number): Promise<number> {
    const key = sourceKey(source);
    const running = this.#refills.get(key);
    if (running !== undefined) {
      running.demand += demand;
      return running.done;
    }
    const refill: { done: Promise<number>; demand: number } = { done: Promise.resolve(0), demand };
    // The store is asked after the current turn of the event loop's microtasks, so that allocations of the
    // same burst that arrive meanwhile add their demand to this request instead of starting their own.
    refill.done = Promise.resolve()
      .then(() => this.#refill(source, now, refill.demand))
      .finally(() => this.#refills.delete(key));
    this.#refills.set(key, refill);
    return refill.done;
  }

  /**
   * Takes addresses up to the target, plus `demand` allocations waiting, for a source; the ledger is written
   * before they can be used.
   */
  async #refill(source: AllocationSource, now: Date, demand = 0): Promise<number> {
    const want = this.#warm.target + demand - this.#ready(source, now).length;
    if (want <= 0) return 0;
    const taken = await this.#ipam.claim(this.#node, source, want, { now });
    if (taken.length === 0) return 0;
    // A crash before this write leaves addresses the store records for the claim and the ledger lacks: the
    // next reconcile adopts them.
    await this.#ledger.put(taken);
    for (const e of taken) this.#set(e);
    return taken.length;
  }

  /** Gives back free entries above the maximum: out of the ledger first, then out of the block. */
  async #trim(now: Date): Promise<number> {
    let free = 0;
    for (const e of this.#entries.values()) if (e.assignment === undefined) free++;
    if (free <= this.#warm.maximum) return 0;
    const sources = [...this.#sources.values()];
    const inUse = (e: ClaimEntry): boolean => sources.some((source) => eligibleFor(e, source));
    const chosen = trimChoice(this.#entries.values(), this.#keep(), now.getTime(), this.#ipam.cooldownMs, inUse);
    if (chosen.length === 0) return 0;
    // Out of the ledger before the block write: a crash in between leaves them claimed in the store, where the
    // next reconcile adopts them again; the reverse order could leave the ledger handing out given-back addresses.
    return (await this.#giveBack(chosen, now)).length;
  }

  async #giveBack(entries: readonly ClaimEntry[], now: Date): Promise<string[]> {
    for (const e of entries) {
      this.#delete(e.address);
      this.#left.set(e.address, undefined);
    }
    try {
      await this.#ledger.remove(entries.map((e) => e.address));
      const returned: string[] = [];
      for (const [block, items] of groupBy(entries, (e) => e.block)) {
        returned.push(...(await this.#ipam.returnToBlock(this.#node, block, items.map((e) => ({ address: e.address, releasedAt: e.releasedAt })), { now })));
      }
      return returned;
    } finally {
      const end = ++this.#tick;
      for (const e of entries) this.#left.set(e.address, end);
    }
  }

  /** Free entries a trim keeps: the target for each source in use, at most the maximum. */
  #keep(): number {
    const sources = new Set([...this.#sources.values()].map(sourceKey)).size;
    return Math.min(this.#warm.maximum, this.#warm.target * Math.max(1, sources));
  }

  /** Writes each block's unpublished entries, one write per block. */
  async #publish(now: Date): Promise<{ published: number; dropped: number }> {
    const pending = [...this.#entries.values()].filter((e) => !e.published);
    let published = 0;
    let dropped = 0;
    for (const [block, items] of groupBy(pending, (e) => e.block)) {
      const view = new Map(items.map((e) => [e.address, e.assignment] as const));
      const r = await this.#ipam.publishClaim(this.#node, block, view, { now });
      if (r.written) published++;
      const missing = new Set(r.notClaimed);
      const done: ClaimEntry[] = [];
      const gone: string[] = [];
      for (const e of items) {
        // Changed since the snapshot: the next sync publishes the new state.
        if (this.#entries.get(e.address) !== e) continue;
        if (!missing.has(e.address)) done.push({ ...e, published: true });
        else if (e.assignment === undefined) gone.push(e.address);
        else this.#onProblem({ kind: 'AssignedNotClaimed', address: e.address, handleId: e.assignment.handleId });
      }
      await this.#ledger.put(done);
      for (const e of done) this.#set(e);
      if (gone.length > 0) {
        await this.#ledger.remove(gone);
        for (const a of gone) this.#delete(a);
        dropped += gone.length;
      }
    }
    return { published, dropped };
  }

  /** Makes the ledger and the store agree on which addresses the claim holds. */
  async #reconcile(now: Date): Promise<{ dropped: number; adopted: number }> {
    const start = ++this.#tick;
    const held = await this.#ipam.claimOf(this.#node);
    const recentlyLeft = (address: string): boolean => {
      if (!this.#left.has(address)) return false;
      const end = this.#left.get(address);
      return end === undefined || end > start;
    };
    const inStore = new Set(held.map((h) => h.address));
    const adopt: ClaimEntry[] = [];
    for (const h of held) {
      if (this.#entries.has(h.address) || recentlyLeft(h.address)) continue;
      // The ledger is the truth inside the claim: an address it does not list serves no pod of this node.
      adopt.push({
        address: h.address,
        addressWithPrefix: h.addressWithPrefix,
        block: h.block,
        pool: h.pool,
        gateway: h.gateway,
        assignment: undefined,
        releasedAt: h.assignment === undefined ? undefined : now.toISOString(),
        published: h.assignment === undefined,
      });
    }
    const gone: string[] = [];
    for (const e of this.#entries.values()) {
      if (inStore.has(e.address)) continue;
      if (e.assignment === undefined) gone.push(e.address);
      else this.#onProblem({ kind: 'AssignedNotClaimed', address: e.address, handleId: e.assignment.handleId });
    }
    for (const [address, end] of this.#left) if (end !== undefined && end < start) this.#left.delete(address);
    await this.#ledger.put(adopt);
    for (const e of adopt) this.#set(e);
    await this.#ledger.remove(gone);
    for (const a of gone) this.#delete(a);
    return { dropped: gone.length, adopted: adopt.length };
  }

  /** Gives free claimed addresses that a fixed-IP request asks for back to their blocks, so it can take them. */
  async #giveBackFree(fixedIps: readonly string[], at: Date | undefined): Promise<void> {
    const now = at ?? this.#ipam.now();
    const wanted = fixedIps.map((ip) => this.#entries.get(ip)).filter((e): e is ClaimEntry => e !== undefined && e.assignment === undefined);
    if (wanted.length > 0) await this.#giveBack(wanted, now);
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list === undefined) out.set(key, [item]);
    else list.push(item);
  }
  return out;
}
