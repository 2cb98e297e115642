/**
 * The controller's resident memory at idle (prints, asserts nothing): `hostnic-controller run` as its own
 * process against the fakes (kube-apiserver over HTTPS, QingCloud over HTTP), once from the bundle
 * (dist/bundle/hostnic-controller.mjs, what the image runs; `npm run build` first) and once from source (as
 * the e2e stack starts it). Each run gets fresh fakes, so both do the same work: a cold start that prepares
 * the VxNetPool. Idle: holding the lease with the VxNetPool ready; then VmRSS is sampled for a while and the
 * highest sample printed, beside bare Node for reference.
 *
 *   node --conditions=@hostnic/source bench/rss.ts
 *
 * HOSTNIC_BENCH_NODE_FLAGS (space-separated) go before the script in both runs: V8 flags to try, or
 * `--import <file>` of a probe. HOSTNIC_BENCH_PODS running pods (default 0), spread over ten nodes, are in the
 * cluster before the controller starts: its caches hold every pod and node of the cluster.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCESS_KEY, SECRET, putNode, putPod, putVxNetPool, seedVxnets, startHarness, until, VXNET } from '../test/harness.ts';
import type { Harness } from '../test/harness.ts';

const PACKAGE = resolve(import.meta.dirname, '..');
const BUNDLE = join(PACKAGE, 'dist', 'bundle', 'hostnic-controller.mjs');
const SOURCE = join(PACKAGE, 'src', 'cli.ts');
/** How long the idle process is watched after it is ready; the highest sample counts. */
const IDLE_SAMPLES = 10;
const SAMPLE_EVERY_MS = 500;
const NODE_FLAGS = (process.env['HOSTNIC_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
const PODS = Number(process.env['HOSTNIC_BENCH_PODS'] ?? 0);
const NODES = 10;
if (!Number.isInteger(PODS) || PODS < 0) throw new Error(`HOSTNIC_BENCH_PODS must be a whole number, not ${process.env['HOSTNIC_BENCH_PODS'] ?? ''}`);

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

async function idleRss(child: ChildProcess): Promise<number> {
  const pid = child.pid;
  if (pid === undefined) throw new Error('the child has no pid');
  let highest = 0;
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    await sleep(SAMPLE_EVERY_MS);
    highest = Math.max(highest, await rssOf(pid));
  }
  return highest;
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  await exited;
}

async function controllerRss(h: Harness, dir: string, argv: readonly string[]): Promise<number> {
  seedVxnets(h.fake);
  putVxNetPool(h.kube, [VXNET], 27);
  for (let n = 0; n < NODES; n++) putNode(h.kube, `node-${n}`, `i-node${n}`);
  for (let p = 0; p < PODS; p++) putPod(h.kube, 'default', `pod-${p}`, `10.${(p >> 16) & 255}.${(p >> 8) & 255}.${p & 255}`, `node-${p % NODES}`);
  const kubeconfig = join(dir, 'kubeconfig');
  const iaasConfig = join(dir, 'config.yaml');
  const cluster = join(dir, 'qingcloud.yaml');
  await writeFile(kubeconfig, h.kubeconfig);
  await writeFile(iaasConfig, [`qy_access_key_id: '${ACCESS_KEY}'`, `qy_secret_access_key: '${SECRET}'`, 'zone: pek3a', `host: ${h.fake.endpoint.host}`, `port: ${h.fake.endpoint.port}`, 'protocol: http', ''].join('\n'));
  await writeFile(cluster, 'zone: pek3a\nclusterID: ""\n');
  const identity = `rss-${process.pid}`;
  const child = spawn(process.execPath, [...NODE_FLAGS, ...argv, 'run', '--kubeconfig', kubeconfig, '--iaas-config', iaasConfig, '--cluster-config', cluster, '--metrics-port', '0', '--identity', identity, '--retry-period', '200ms'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await until('the controller leading with the VxNetPool ready', () => {
      if (child.exitCode !== null) throw new Error(`the controller exited with ${child.exitCode}:\n${stderr}`);
      const holder = (h.kube.get('leases', 'hostnic-controller', 'kube-system')?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
      const ready = (h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined)?.ready;
      return holder === identity && ready === true ? true : undefined;
    }, 60_000, 50);
    return await idleRss(child);
  } finally {
    await stopped(child);
  }
}

async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: 'ignore' });
  try {
    return await idleRss(child);
  } finally {
    await stopped(child);
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** One run on fresh fakes and a fresh directory for its files. */
async function measured(argv: readonly string[]): Promise<number> {
  const h = await startHarness();
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-controller-rss-'));
  try {
    return await controllerRss(h, dir, argv);
  } finally {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`bare node:                ${mib(await bareNodeRss())}`);
console.log(`cluster:                  ${NODES} nodes, ${PODS} pods`);
if (existsSync(BUNDLE)) console.log(`controller idle, bundle:  ${mib(await measured([BUNDLE]))}`);
else console.log(`controller idle, bundle:  (no ${BUNDLE}; npm run build first)`);
console.log(`controller idle, source:  ${mib(await measured(['--conditions=@hostnic/source', SOURCE]))}`);
