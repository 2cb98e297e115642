import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Ipam } from '../src/index.ts';
import { LmdbIpamStore } from '../src/stores/lmdb/index.ts';
import { pool } from './helpers.ts';
import { mapping } from './ipam-helpers.ts';
import { tempDirs } from './temp-dirs.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/lmdb-allocator.ts', import.meta.url));
const PROCESSES = 4;
const PER_PROCESS = 125;

interface ChildReport {
  readonly node: string;
  readonly live: Record<string, string>;
  readonly errors: string[];
  readonly writes: number;
  readonly conflicts: number;
}

function runChild(path: string, node: string, startAt: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@hostnic/source', FIXTURE, path, node, String(PER_PROCESS), String(startAt)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${node} exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim()) as ChildReport);
    });
  });
}

const tempDir = tempDirs('hostnic-ipam-mp-');

// Each of the ~1,000 writes is a durable lmdb commit: on a loaded 2-core machine this takes far longer than the
// default 30 s, and a timeout here would say nothing about correctness.
it('4 processes allocating through one lmdb path never share an address and lose no handle', { timeout: 240_000 }, async () => {
  const dir = await tempDir();
  const seedStore = LmdbIpamStore.open(dir);
  const seeding = new Ipam(seedStore);
  await seeding.ensurePool(pool('vxnet-hot', '10.1.0.0/23', '10.1.0.2', '10.1.1.250', 26));
  await seeding.ensurePool(pool('vxnet-cool', '10.2.0.0/23', '10.2.0.2', '10.2.1.250', 26));
  // "hot": every process writes the same first block (configured order), the worst case for conflicts;
  // "cool": the Default pool, where each node starts at its own block.
  const hot = ['4100-10-1-0-0-26', '4100-10-1-0-64-26', '4100-10-1-0-128-26', '4100-10-1-0-192-26', '4100-10-1-1-0-26'];
  await seedStore.setIpamConfig(mapping({ Default: ['vxnet-cool'], hot }));
  await seedStore.close();

  const startAt = Date.now() + 1000;
  const reports = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => runChild(dir, `node-${i + 1}`, startAt)));
  for (const r of reports) expect(r.errors).toEqual([]);

  const owners = new Map<string, string>();
  for (const r of reports) {
    for (const [handle, address] of Object.entries(r.live)) {
      expect(owners.get(address), `${address} held by ${owners.get(address)} and ${handle}`).toBeUndefined();
      owners.set(address, handle);
    }
  }
  const liveHandles = reports.flatMap((r) => Object.keys(r.live)).sort();
  expect(liveHandles.length).toBe(PROCESSES * (PER_PROCESS - PER_PROCESS / 5));

  const store = LmdbIpamStore.open(dir);
  try {
    const ipam = new Ipam(store);
    const stored = (await store.listHandles()).map((v) => v.object.metadata.name).sort();
    expect(stored).toEqual(liveHandles);
    for (const r of reports) {
      for (const [handle, address] of Object.entries(r.live)) {
        expect((await ipam.addressesOf(handle)).map((a) => a.address)).toEqual([address]);
      }
    }
    const u = await ipam.utilisation();
    expect(u.pools.reduce((n, p) => n + p.allocated, 0)).toBe(liveHandles.length);
    // Pods are not modelled here, so only the handle/block bookkeeping is checked.
    const report = await ipam.check([], { graceMs: Number.MAX_SAFE_INTEGER });
    expect(report.findings.filter((f) => f.kind !== 'DeadPodAllocation')).toEqual([]);
    // Lost compare-and-swap writes across processes (typically dozens per process on the hot blocks) are not
    // asserted: how much the processes overlap depends on the machine.
  } finally {
    await store.close();
  }
});
