/**
 * Controller figures against the fakes over loopback HTTP (prints, asserts nothing):
 * - cold start: controller start to `v-pool` ready, with 1 and 4 vxnets (IaaS jobs take 20 ms in the fake);
 * - restart: a second controller on a ready cluster, time to its first VxNetPool sync and writes it made;
 * - auto mode: namespace created to namespace mapped, per namespace;
 * - IPAM GC: one consistency check over many allocations.
 */
import { Ipam } from '@hostnic/ipam';
import { parseIpamConfig } from '@hostnic/ipam';
import { putIpamConfig, putNamespace, putVxNetPool, startHarness, until } from '../test/harness.ts';
import type { Harness } from '../test/harness.ts';
import { startController } from '../src/daemon/controller.ts';
import type { RunningController } from '../src/daemon/controller.ts';

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms (n=${s.length})`;
}

function seed(h: Harness, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `vxnet-bench${i}`;
    h.fake.addVxnet({ vxnet_id: id, tunnel_type: 'vxlan', router: { router_id: 'rtr-1', manager_ip: `172.20.${i}.1`, ip_network: `172.20.${i}.0/24`, dyn_ip_start: `172.20.${i}.2`, dyn_ip_end: `172.20.${i}.254` } });
    ids.push(id);
  }
  return ids;
}

async function controller(h: Harness, identity: string): Promise<RunningController> {
  return startController({
    kube: h.client,
    iaas: h.iaas,
    identity,
    lease: { durationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 },
    nicGcIntervalMs: 0,
    ipamGcIntervalMs: 3_600_000,
    pendingResyncMs: 20,
    cooldownMs: 0,
  });
}

const ready = (h: Harness): boolean | undefined => (h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined)?.ready;

async function coldStart(vxnets: number): Promise<void> {
  const h = await startHarness();
  try {
    const ids = seed(h, vxnets);
    putVxNetPool(h.kube, ids, 26);
    const t0 = performance.now();
    const c = await controller(h, 'bench-a');
    await until('ready', () => ready(h), 60_000, 5);
    const readyMs = performance.now() - t0;
    console.log(`cold start, ${vxnets} vxnet(s): v-pool ready after ${readyMs.toFixed(0)} ms (${h.fake.requests().length} IaaS calls)`);

    await c.stop();
    h.kube.clearRequestLog();
    const calls = h.fake.requests().length;
    const t1 = performance.now();
    const again = await controller(h, 'bench-b');
    await until('synced', () => again.status().lastVxNetPool !== undefined, 60_000, 5);
    const writes = h.kube.requestLog().filter((e) => ['create', 'update', 'patch', 'delete'].includes(e.verb ?? '') && !['leases', 'events'].includes(e.resource ?? '')).length;
    console.log(`restart, ${vxnets} vxnet(s): first sync after ${(performance.now() - t1).toFixed(0)} ms, ${writes} API writes, ${h.fake.requests().length - calls} IaaS calls`);
    await again.stop();
  } finally {
    await h.close();
  }
}

async function autoMode(namespaces: number): Promise<void> {
  const h = await startHarness();
  try {
    const ids = seed(h, 2);
    putVxNetPool(h.kube, ids, 29);
    putIpamConfig(h.kube, { 'subnet-auto-assign': 'on', ipam: '{}' });
    const c = await controller(h, 'bench-a');
    await until('ready', () => ready(h), 60_000, 5);
    const samples: number[] = [];
    for (let i = 0; i < namespaces; i++) {
      const name = `bench-${i}`;
      const t0 = performance.now();
      putNamespace(h.kube, name);
      await until(name, async () => parseIpamConfig((await h.store.getIpamConfig())?.object).namespaces.has(name), 30_000, 2);
      samples.push(performance.now() - t0);
    }
    console.log(`auto mode: namespace created to mapped ${stats(samples)}`);
    await c.stop();
  } finally {
    await h.close();
  }
}

async function gcCheck(allocations: number): Promise<void> {
  const h = await startHarness();
  try {
    const ids = seed(h, 2);
    putVxNetPool(h.kube, ids, 26);
    const c = await controller(h, 'bench-a');
    await until('ready', () => ready(h), 60_000, 5);
    await c.stop();
    await h.store.setIpamConfig({ ipam: JSON.stringify({ Default: ids }) });
    const ipam = new Ipam(h.store, { cooldownMs: 0 });
    for (let i = 0; i < allocations; i++) await ipam.allocate({ handleId: `default-p${i}-c`, namespace: 'default', pod: `p${i}`, node: 'node-1' });
    const live = Array.from({ length: allocations }, (_, i) => ({ namespace: 'default', name: `p${i}` }));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await ipam.check(live);
      samples.push(performance.now() - t0);
    }
    console.log(`IPAM check over ${allocations} allocations (API lists): ${stats(samples)}`);
  } finally {
    await h.close();
  }
}

await coldStart(1);
await coldStart(4);
await autoMode(40);
await gcCheck(400);
