/**
 * Warm ADD/DEL through the bundled plugin against a real `hostnic-agent run` in a sandbox node, next to Node's
 * bare start-up and Debian's reference ptp + host-local, all launched the same way (`ip netns exec <node>`).
 * The node's NIC is attached by warm-up rounds first. Then pods per second with parallel ADDs. Prints figures,
 * asserts nothing, removes everything it made. Needs root; `HOSTNIC_BENCH_N` sequential rounds (default 40),
 * `HOSTNIC_BENCH_PARALLEL` pods at once (default 10).
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { run, startAgentCluster } from '../test/agent/harness.ts';
import type { AgentCluster, PodRef, RunResult } from '../test/agent/harness.ts';

const N = Number(process.env['HOSTNIC_BENCH_N'] ?? 40);
const PARALLEL = Number(process.env['HOSTNIC_BENCH_PARALLEL'] ?? 10);
const REFERENCE = '/usr/lib/cni';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

if (process.getuid?.() !== 0) {
  console.log('agent bench: needs root (network namespaces); skipped');
  process.exit(0);
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(1).padStart(6)} ms   p50 ${at(0.5).toFixed(1).padStart(6)} ms   p99 ${at(0.99).toFixed(1).padStart(6)} ms`;
}

async function timed(what: string, p: Promise<RunResult>): Promise<number> {
  const start = performance.now();
  const r = await p;
  const ms = performance.now() - start;
  if (r.code !== 0) throw new Error(`${what} failed (${String(r.code)}): ${r.stdout} ${r.stderr}`);
  return ms;
}

let cluster: AgentCluster | undefined;
try {
  cluster = await startAgentCluster({
    prefix: `hb${randomBytes(2).toString('hex')}`,
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [
      { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
      { id: 'vxnet-pods001', cidr: '172.16.3.0/24' },
    ],
    pools: ['vxnet-pods001'],
    mapping: () => ({ Default: ['vxnet-pods001'] }),
    blockSize: 26,
  });
  const c = cluster;
  const agent = c.agent('node-1');
  const node = agent.node;
  const launcher = ['ip', 'netns', 'exec', node.netnsName];
  const { ref: benchPod } = await c.createPod('node-1', 'bench', 'seq');
  const ptpNetns = await c.sandbox.podNetns('node-1', 'bench-ptp');
  const ptpConf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench-ptp',
    type: 'ptp',
    ipMasq: false,
    ipam: { type: 'host-local', subnet: '10.201.0.0/16', dataDir: join(c.dir, 'host-local') },
  });
  const ptpEnv = (command: string, id: string): Record<string, string> => ({
    PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: ptpNetns.path,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=ptp;K8S_POD_INFRA_CONTAINER_ID=${id}`,
    CNI_PATH: REFERENCE,
  });
  const haveReference = existsSync(join(REFERENCE, 'ptp')) && existsSync(join(REFERENCE, 'host-local'));

  const rows: Record<string, number[]> = {
    'ip netns exec true (launch overhead)': [],
    'node -e 0': [],
    'hostnic ADD (warm NIC)': [],
    'hostnic DEL': [],
    'ptp+host-local ADD': [],
    'ptp+host-local DEL': [],
  };
  for (let i = -3; i < N; i++) {
    // Three warm-up rounds attach the NIC and fill the page cache; they are not counted.
    const add = (k: string, v: number): void => {
      if (i >= 0) rows[k]?.push(v);
    };
    add('ip netns exec true (launch overhead)', await timed('true', run([...launcher, 'true'], { PATH }, '', c.dir)));
    add('node -e 0', await timed('node -e 0', run([...launcher, process.execPath, '-e', '0'], { PATH }, '', c.dir)));
    const ref: PodRef = { ...benchPod, containerId: randomBytes(16).toString('hex') };
    add('hostnic ADD (warm NIC)', await timed('hostnic ADD', agent.plugin('ADD', ref)));
    add('hostnic DEL', await timed('hostnic DEL', agent.plugin('DEL', ref)));
    if (haveReference) {
      const id = `ptp${i + 10}`;
      const ptp = [...launcher, join(REFERENCE, 'ptp')];
      add('ptp+host-local ADD', await timed('ptp ADD', run(ptp, ptpEnv('ADD', id), ptpConf, c.dir)));
      add('ptp+host-local DEL', await timed('ptp DEL', run(ptp, ptpEnv('DEL', id), ptpConf, c.dir)));
    }
  }

  const pods: PodRef[] = [];
  for (let i = 0; i < PARALLEL; i++) pods.push((await c.createPod('node-1', 'bench', `par${i}`)).ref);
  const addStart = performance.now();
  await Promise.all(pods.map((p) => timed('parallel ADD', agent.plugin('ADD', p))));
  const addMs = performance.now() - addStart;
  const delStart = performance.now();
  await Promise.all(pods.map((p) => timed('parallel DEL', agent.plugin('DEL', p))));
  const delMs = performance.now() - delStart;

  console.log(`agent bench: ${N} sequential rounds, ${process.execPath} ${process.version}, launcher ip netns exec`);
  for (const [name, samples] of Object.entries(rows)) {
    if (samples.length > 0) console.log(`  ${name.padEnd(40)} ${stats(samples)}`);
  }
  if (!haveReference) console.log('  (ptp/host-local not installed: apt-get install containernetworking-plugins)');
  console.log(
    `  ${`${PARALLEL} ADDs in parallel`.padEnd(40)} ${addMs.toFixed(0).padStart(6)} ms   ${((PARALLEL * 1000) / addMs).toFixed(1)} pods/s`,
  );
  console.log(
    `  ${`${PARALLEL} DELs in parallel`.padEnd(40)} ${delMs.toFixed(0).padStart(6)} ms   ${((PARALLEL * 1000) / delMs).toFixed(1)} pods/s`,
  );
  const left = await c.handles();
  if (left.length > 0) console.log(`  (IPAM handles left: ${left.join(', ')})`);
} finally {
  await cluster?.close();
}
