import type { IPAMBlock, IpamOptions, IpamStore, IPPool, WriteEvent } from '../src/index.ts';
import { assignAddresses, blockKey, incrementHandle, Ipam, MemoryIpamStore, newHandle, StoreCallCounter } from '../src/index.ts';
import { runningPool, T0 } from './helpers.ts';

export const POOL = 'vxnet-abc1234';
/** Block names of the running example at /27, by last octet of their start. */
export const B = (start: number): string => `4100-172-16-3-${start}-27`;

/** ConfigMap data for a mapping. */
export function mapping(ipam: Record<string, string[]>, auto = false): Record<string, string> {
  return { 'subnet-auto-assign': auto ? 'on' : 'off', ipam: JSON.stringify(ipam) };
}

export interface Rig {
  readonly store: MemoryIpamStore;
  readonly ipam: Ipam;
  readonly counter: StoreCallCounter;
  readonly writes: WriteEvent[];
}

/** Fast options for tests: no real sleeping, fixed clock and jitter. */
export function testOptions(extra: IpamOptions = {}): IpamOptions {
  return { clock: () => T0, random: () => 0.5, sleep: async () => {}, ...extra };
}

/** The running example at /27 with its gateway. */
export function examplePool(): IPPool {
  const p = runningPool(27);
  return { ...p, spec: { ...p.spec, gateway: '172.16.3.1' } };
}

/** A running-example pool seeded into a store with a mapping. */
export async function seed(store: IpamStore, ipam: Record<string, string[]>, pool: IPPool = examplePool()): Promise<void> {
  await new Ipam(store).ensurePool(pool);
  await store.setIpamConfig(mapping(ipam));
}

/** A memory store with the running example, an Ipam over it and a write log. */
export async function rig(ipam: Record<string, string[]> = { Default: [POOL] }, options: IpamOptions = {}): Promise<Rig> {
  const store = new MemoryIpamStore();
  await seed(store, ipam);
  const counter = new StoreCallCounter();
  const writes: WriteEvent[] = [];
  const allocator = new Ipam(
    store,
    testOptions({
      onWrite: (e) => {
        counter.onWrite(e);
        writes.push(e);
      },
      onRead: counter.onRead,
      ...options,
    }),
  );
  return { store, ipam: allocator, counter, writes };
}

/** Fills a block completely (or leaves `leave` free addresses) with addresses of a filler handle. */
export async function fill(store: IpamStore, name: string, leave = 0): Promise<void> {
  const current = await store.getBlock(name);
  if (current === undefined) throw new Error(`no block ${name}`);
  const count = current.object.spec.unallocated.length - leave;
  const { block } = assignAddresses(current.object.spec, { handleId: 'filler', count, now: T0, cooldownMs: 0 });
  const next: IPAMBlock = { ...current.object, spec: block };
  await store.updateBlock(next, current.version);
  // The filler handle counts its addresses, so the store stays consistent.
  const handleId = 'filler';
  const key = blockKey(block.id, block.cidr);
  const existing = await store.getHandle(handleId);
  if (existing === undefined) {
    await store.createHandle({ ...newHandle(handleId), spec: incrementHandle(newHandle(handleId).spec, key, count) });
  } else {
    await store.updateHandle({ ...existing.object, spec: incrementHandle(existing.object.spec, key, count) }, existing.version);
  }
}

export function pod(handle: string, namespace = 'default', node = 'node-1') {
  return { handleId: handle, namespace, pod: handle, node };
}
