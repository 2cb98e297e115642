/**
 * What the agent costs in memory (issue 14: <= 80 MiB idle, <= 100 MiB with 110 pods), one agent started as
 * asked and restarted with each set of V8 flags: after three warm ADD/DEL rounds (idle), then with
 * `HOSTNIC_BENCH_PODS` pods (default 110) added ten at a time. RSS from /proc; heap and external from the
 * agent's own metrics. Prints figures, asserts nothing, removes everything it made. Needs root.
 *
 *   HOSTNIC_RSS_AGENT   the agent entry: a .ts CLI (run with --conditions=@hostnic/source) or a bundle .mjs;
 *                       default the sources of this checkout
 *   HOSTNIC_RSS_FLAGS   JSON list of variants to compare, each NODE_OPTIONS as a string or an environment as an
 *                       object, e.g. '["", "--max-semi-space-size=1", {"NODE_OPTIONS": "", "MALLOC_ARENA_MAX": "2"}]';
 *                       repeat a variant to see how much runs vary
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AGENT_CLI, startHostnicStack } from '../src/stack/index.ts';
import type { HostnicStack, PodRef, RunResult } from '../src/stack/index.ts';
import { metricValue, mib } from './report.ts';

const PODS = Number(process.env['HOSTNIC_BENCH_PODS'] ?? 110);
const ENTRY = process.env['HOSTNIC_RSS_AGENT'] ?? AGENT_CLI;
const FLAGS = JSON.parse(process.env['HOSTNIC_RSS_FLAGS'] ?? '[""]') as unknown;
const METRICS_PORT = 19191;
const SAMPLES = 5;

if (process.getuid?.() !== 0) {
  console.log('agent RSS bench: needs root (network namespaces); skipped');
  process.exit(0);
}
type Variant = string | Record<string, string>;
const isVariant = (v: unknown): v is Variant =>
  typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'));
if (!Array.isArray(FLAGS) || !FLAGS.every(isVariant)) {
  throw new Error('HOSTNIC_RSS_FLAGS: must be a JSON list of NODE_OPTIONS strings or objects of environment variables (string values)');
}
const VARIANTS: Variant[] = FLAGS;
/** The environment a variant adds to the agent's, and how the report names it. */
const envOf = (v: Variant): Record<string, string> => (typeof v === 'string' ? { NODE_OPTIONS: v } : v);
const labelOf = (v: Variant): string => {
  const text = Object.entries(envOf(v)).filter(([, value]) => value !== '').map(([k, value]) => (k === 'NODE_OPTIONS' ? value : `${k}=${value}`)).join(' ');
  return text === '' ? '(no flags)' : text;
};

async function rss(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

function ok(what: string, r: RunResult): void {
  if (r.code !== 0) throw new Error(`${what} failed (${String(r.code)}): ${r.stdout} ${r.stderr}`);
}

interface Sample {
  rss: number | undefined;
  heapUsed: number | undefined;
  heapTotal: number | undefined;
  external: number | undefined;
}

let stack: HostnicStack | undefined;
try {
  stack = await startHostnicStack({
    prefix: `hr${randomBytes(2).toString('hex')}`,
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [
      { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
      // Room for several variants: each round's released addresses cool down before anyone may reuse them.
      { id: 'vxnet-pods001', cidr: '172.16.0.0/21' },
    ],
    ipam: { kind: 'controller', vxnets: ['vxnet-pods001'], blockSize: 26, ipamConfig: { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: ['vxnet-pods001'] }) } },
    agentCommand: ENTRY.endsWith('.ts') ? [process.execPath, '--conditions=@hostnic/source', ENTRY] : [process.execPath, ENTRY],
  });
  const c = stack;
  const agent = c.agent('node-1');
  const node = agent.node;
  const scrape = async (): Promise<string> =>
    (await c.sandbox.exec('node-1', [process.execPath, '-e', `fetch('http://${node.ip}:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`])).stdout;
  /** The median of a few samples a second apart: RSS moves with each GC. */
  const sample = async (): Promise<Sample> => {
    const rows: Sample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const text = await scrape();
      rows.push({
        rss: await rss(agent.child.process.pid),
        heapUsed: metricValue(text, 'nodejs_heap_size_used_bytes'),
        heapTotal: metricValue(text, 'nodejs_heap_size_total_bytes'),
        external: metricValue(text, 'nodejs_external_memory_bytes'),
      });
      await new Promise((r) => setTimeout(r, 1000));
    }
    const median = (k: keyof Sample): number | undefined => rows.map((r) => r[k]).filter((v): v is number => v !== undefined).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
    return { rss: median('rss'), heapUsed: median('heapUsed'), heapTotal: median('heapTotal'), external: median('external') };
  };

  const { ref: warm } = await c.createPod('node-1', 'bench', 'warm');
  const pods: PodRef[] = [];
  for (let i = 0; i < PODS; i++) pods.push((await c.createPod('node-1', 'bench', `rss${i}`)).ref);
  const rows: string[] = [];
  for (const variant of VARIANTS) {
    await agent.restart({ env: envOf(variant) });
    for (let i = 0; i < 3; i++) {
      const ref: PodRef = { ...warm, containerId: randomBytes(16).toString('hex') };
      ok('warm ADD', await agent.plugin('ADD', ref));
      ok('warm DEL', await agent.plugin('DEL', ref));
    }
    const idle = await sample();
    for (let i = 0; i < pods.length; i += 10) {
      const batch = pods.slice(i, i + 10);
      for (const r of await Promise.all(batch.map((p) => agent.plugin('ADD', p)))) ok('ADD', r);
    }
    const full = await sample();
    for (let i = 0; i < pods.length; i += 10) {
      const batch = pods.slice(i, i + 10);
      for (const r of await Promise.all(batch.map((p) => agent.plugin('DEL', p)))) ok('DEL', r);
    }
    const figures = (s: Sample): string => `${mib(s.rss)} (heap ${mib(s.heapUsed)}/${mib(s.heapTotal)}, external ${mib(s.external)})`;
    rows.push(`  ${labelOf(variant).padEnd(58)} idle ${figures(idle)}; ${PODS} pods ${figures(full)}`);
  }
  console.log(`agent RSS bench: ${ENTRY}, ${process.execPath} ${process.version}`);
  console.log(rows.join('\n'));
} finally {
  await stack?.close();
}
