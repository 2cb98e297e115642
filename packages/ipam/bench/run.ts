/**
 * IPAM allocator bench: allocations and releases per second, and store writes per operation, for each store
 * (sequential; several concurrent allocators spread over a pool; several allocators on one namespace block
 * list, the worst case for conflicts). Prints figures, asserts nothing.
 *
 * Run: `npm run bench` (node --conditions=@hostnic/source bench/run.ts).
 * Another store (e.g. Kubernetes against the sandbox's fake API server) is one more `benchStore` call with a
 * factory for it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IpamStore, IPPool } from '@hostnic/ipam';
import { Ipam, MemoryIpamStore, StoreCallCounter } from '@hostnic/ipam';
import { LmdbIpamStore } from '@hostnic/ipam/lmdb';

/** A store for one scenario, and how to dispose of it. */
interface BenchStore {
  readonly store: IpamStore;
  dispose(): Promise<void>;
}

/** Makes a fresh, empty store. */
type StoreFactory = () => Promise<BenchStore>;

const POOL_NAME = 'vxnet-bench';
const HOT_BLOCKS = ['4100-10-8-0-0-26', '4100-10-8-0-64-26', '4100-10-8-0-128-26', '4100-10-8-0-192-26'];

function benchPool(): IPPool {
  return {
    metadata: { name: POOL_NAME },
    spec: {
      type: 'local',
      cidr: '10.8.0.0/20',
      rangeStart: '10.8.0.2',
      rangeEnd: '10.8.15.250',
      gateway: '10.8.0.1',
      blockSize: 26,
      vlanConfig: { vlanId: 0, master: '' },
      dns: {},
    },
  };
}

async function prepare(factory: StoreFactory): Promise<BenchStore> {
  const bench = await factory();
  await new Ipam(bench.store).ensurePool(benchPool());
  await bench.store.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [POOL_NAME], hot: HOT_BLOCKS }) });
  return bench;
}

interface Scenario {
  readonly name: string;
  /** Concurrent allocators (one node each). */
  readonly allocators: number;
  /** Allocations per allocator. */
  readonly perAllocator: number;
  /** Namespace: `spread` uses the Default pool (node offsets), `hot` a 4-block namespace list. */
  readonly namespace: 'spread' | 'hot';
}

interface Figures {
  readonly allocationsPerSecond: number;
  readonly releasesPerSecond: number;
  readonly writesPerAllocation: number;
  readonly writesPerRelease: number;
  readonly conflictsPerAllocation: number;
  readonly readsPerAllocation: number;
}

async function runScenario(factory: StoreFactory, scenario: Scenario): Promise<Figures> {
  const bench = await prepare(factory);
  try {
    const counter = new StoreCallCounter();
    const allocators = Array.from(
      { length: scenario.allocators },
      () => new Ipam(bench.store, { onWrite: counter.onWrite, onRead: counter.onRead }),
    );
    const namespace = scenario.namespace === 'hot' ? 'hot' : 'default';
    const handles = (n: number): string[] => Array.from({ length: scenario.perAllocator }, (_, i) => `bench-node-${n}-pod-${i}`);

    const allocStart = performance.now();
    await Promise.all(
      allocators.map(async (ipam, n) => {
        for (const handleId of handles(n)) await ipam.allocate({ handleId, namespace, pod: handleId, node: `node-${n}`, now: new Date() });
      }),
    );
    const allocMs = performance.now() - allocStart;
    const total = scenario.allocators * scenario.perAllocator;
    const allocWrites = counter.writes('allocate');
    const allocReads = counter.reads('allocate');
    const allocConflicts = counter.conflicts('allocate');

    const releaseStart = performance.now();
    await Promise.all(
      allocators.map(async (ipam, n) => {
        for (const handleId of handles(n)) await ipam.release(handleId);
      }),
    );
    const releaseMs = performance.now() - releaseStart;
    return {
      allocationsPerSecond: (total / allocMs) * 1000,
      releasesPerSecond: (total / releaseMs) * 1000,
      writesPerAllocation: allocWrites / total,
      writesPerRelease: counter.writes('release') / total,
      conflictsPerAllocation: allocConflicts / total,
      readsPerAllocation: allocReads / total,
    };
  } finally {
    await bench.dispose();
  }
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'sequential, 1 allocator', allocators: 1, perAllocator: 2000, namespace: 'spread' },
  { name: '8 allocators, Default pool (node offsets)', allocators: 8, perAllocator: 250, namespace: 'spread' },
  { name: '8 allocators, one 4-block namespace', allocators: 8, perAllocator: 25, namespace: 'hot' },
];

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

/**
 * Runs every scenario against stores from `factory` and prints one table.
 * @param label - the store's name
 * @param factory - makes a fresh store per scenario
 */
async function benchStore(label: string, factory: StoreFactory): Promise<void> {
  const widths = [50, 9, 10, 8, 10, 11, 8];
  console.log(`\n${label}`);
  console.log(row(['scenario', 'alloc/s', 'release/s', 'w/alloc', 'w/release', 'conflict/a', 'r/alloc'], widths));
  for (const scenario of SCENARIOS) {
    const f = await runScenario(factory, scenario);
    console.log(
      row(
        [
          `${scenario.name} (${scenario.allocators * scenario.perAllocator})`,
          f.allocationsPerSecond.toFixed(0),
          f.releasesPerSecond.toFixed(0),
          f.writesPerAllocation.toFixed(2),
          f.writesPerRelease.toFixed(2),
          f.conflictsPerAllocation.toFixed(2),
          f.readsPerAllocation.toFixed(1),
        ],
        widths,
      ),
    );
  }
}

const memory: StoreFactory = async () => {
  const store = new MemoryIpamStore();
  return { store, dispose: () => store.close() };
};

const lmdb: StoreFactory = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-ipam-bench-'));
  const store = LmdbIpamStore.open(dir);
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

interface WorkerReport {
  readonly allocEnd: number;
  readonly releaseEnd: number;
  readonly allocWrites: number;
  readonly releaseWrites: number;
  readonly conflicts: number;
}

function runWorker(args: readonly string[]): Promise<WorkerReport> {
  const script = fileURLToPath(new URL('./lmdb-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@hostnic/source', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** Several processes allocating through one lmdb path at once (the agent-per-process case on one host). */
async function benchLmdbProcesses(processes: number, perProcess: number, namespace: 'default' | 'hot'): Promise<void> {
  const bench = await prepare(lmdb);
  const path = (bench.store as LmdbIpamStore).path;
  await bench.store.close();
  try {
    const startAt = Date.now() + 1500;
    const reports = await Promise.all(
      Array.from({ length: processes }, (_, n) => runWorker([path, `node-${n}`, String(perProcess), String(startAt), namespace])),
    );
    const total = processes * perProcess;
    const allocSeconds = (Math.max(...reports.map((r) => r.allocEnd)) - startAt) / 1000;
    const releaseSeconds = (Math.max(...reports.map((r) => r.releaseEnd)) - Math.min(...reports.map((r) => r.allocEnd))) / 1000;
    const sum = (f: (r: WorkerReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
    console.log(
      `${processes} processes × ${perProcess}, ${namespace === 'hot' ? 'one 4-block namespace' : 'Default pool'}: ` +
        `${(total / allocSeconds).toFixed(0)} alloc/s, ${(total / releaseSeconds).toFixed(0)} release/s (overlapping), ` +
        `${(sum((r) => r.allocWrites) / total).toFixed(2)} writes/alloc, ${(sum((r) => r.releaseWrites) / total).toFixed(2)} writes/release, ` +
        `${(sum((r) => r.conflicts) / total).toFixed(2)} conflicts/alloc`,
    );
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

console.log(`@hostnic/ipam allocator bench (Node ${process.version}); pool /20 cut into 64 blocks of /26`);
await benchStore('memory store', memory);
await benchStore('lmdb store (one process, durable commits)', lmdb);
console.log('\nlmdb store, several processes on one path (aggregate over the wall-clock time)');
await benchLmdbProcesses(4, 250, 'default');
await benchLmdbProcesses(4, 50, 'hot');
console.log(
  '\nw/alloc and w/release count store writes (attempted, conflicts included) per operation; ' +
    'r/alloc counts reads; conflict/a counts lost compare-and-swap writes per allocation.',
);
