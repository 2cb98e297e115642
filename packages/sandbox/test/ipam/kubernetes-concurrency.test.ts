import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Ipam } from '@hostnic/ipam';
import { mapping, pool, startKubeRig, type KubeRig } from './helpers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/kube-allocator.ts', import.meta.url));
const PROCESSES = 4;
// 1,000 allocations and their releases over HTTP keep the hot blocks contended at a quarter of the cost of 2,000.
const PER_PROCESS = 250;

interface ChildReport {
  node: string;
  live: Record<string, string>;
  errors: string[];
  writes: number;
  conflicts: number;
}

function runChild(kubeconfig: string, node: string, startAt: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@hostnic/source', FIXTURE, kubeconfig, node, String(PER_PROCESS), String(startAt)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as ChildReport) : reject(new Error(`${node} exited ${code}: ${err}`))));
  });
}

let rig: KubeRig | undefined;
let dir: string | undefined;
afterAll(async () => {
  await rig?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it(`${PROCESSES} processes allocate ${PROCESSES * PER_PROCESS} times through the Kubernetes store at once: no duplicates, no lost handles`, async () => {
  // Plain HTTP: thousands of requests, each of which would otherwise be a full TLS handshake (client-node).
  rig = await startKubeRig({ plainHttp: true });
  dir = await mkdtemp(join(tmpdir(), 'hostnic-kube-mp-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, rig.kubeconfig);

  const seedStore = rig.store();
  const seeding = new Ipam(seedStore);
  await seeding.ensurePool(pool('vxnet-hot0001', '10.1.0.0/23', '10.1.0.2', '10.1.1.250', 26));
  await seeding.ensurePool(pool('vxnet-cool001', '10.2.0.0/21', '10.2.0.2', '10.2.7.250', 26));
  // "hot": every process tries the same first block first (configured order), the worst case for conflicts.
  const hot = ['0-0', '0-64', '0-128', '0-192', '1-0', '1-64', '1-128', '1-192'].map((b) => `4100-10-1-${b}-26`);
  await seedStore.setIpamConfig(mapping({ Default: ['vxnet-cool001'], hot }));
  rig.server.clearRequestLog();

  const startAt = Date.now() + 1500;
  const reports = await Promise.all(
    Array.from({ length: PROCESSES }, (_, i) => runChild(kubeconfig, `node-${i + 1}`, startAt)),
  );
  for (const r of reports) expect(r.errors).toEqual([]);

  // Every conflict was retried: the apiserver answered 409s, and still no allocation failed.
  const conflicts = rig.server.requestLog().filter((e) => e.status === 409).length;
  expect(conflicts).toBeGreaterThan(0);

  const owners = new Map<string, string>();
  for (const r of reports) {
    for (const [handle, address] of Object.entries(r.live)) {
      expect(owners.get(address), `${address} held by ${owners.get(address)} and ${handle}`).toBeUndefined();
      owners.set(address, handle);
    }
  }
  const liveHandles = reports.flatMap((r) => Object.keys(r.live)).sort();
  expect(liveHandles).toHaveLength(PROCESSES * (PER_PROCESS - PER_PROCESS / 5));

  const store = rig.store();
  const ipam = new Ipam(store);
  expect((await store.listHandles()).map((v) => v.object.metadata.name).sort()).toEqual(liveHandles);
  for (const r of reports) {
    for (const [handle, address] of Object.entries(r.live)) {
      expect((await ipam.addressesOf(handle)).map((a) => a.address)).toEqual([address]);
    }
  }
  const report = await ipam.check([], { graceMs: Number.MAX_SAFE_INTEGER });
  expect(report.findings.filter((f) => f.kind !== 'DeadPodAllocation')).toEqual([]);
  console.log(`kube concurrency: ${PROCESSES * PER_PROCESS} allocations, ${conflicts} conflicts retried`);
}, 480_000);
