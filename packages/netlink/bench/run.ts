/**
 * Pod ADD and DEL with the library versus the same work done the naive way (one `ip` process per command,
 * as a shell script would), in throwaway namespaces. Prints figures; asserts nothing.
 *
 * The outer process creates a node namespace and runs this file again inside it, so that the library
 * works exactly as in the agent: the host is the calling process's own namespace (`netns <pid>`, /proc/sys
 * writes without a process). Everything is deleted at the end, also on failure.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  NIC_RULE_PRIORITY,
  createNamedNetns,
  deleteNamedNetns,
  hostVethName,
  listNamedNetns,
  namedNetns,
  onSpawn,
  randomMac,
  setupHostNic,
  unwirePod,
  vethAddOp,
  applyBatchOrThrow,
  wirePod,
} from '../src/index.ts';

const execFileP = promisify(execFile);
const N = Number(process.env['BENCH_PODS'] ?? 30);
const WARMUP = 3;

async function sh(...argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return;
  await execFileP(cmd, args);
}

function podIP(i: number): string {
  return `172.22.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;
}

interface Timing {
  add: number[];
  del: number[];
  addSpawns: number[];
  delSpawns: number[];
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

async function viaLibrary(pods: readonly string[], ids: readonly number[], t: Timing): Promise<void> {
  let spawns = 0;
  const stop = onSpawn(() => spawns++);
  try {
    for (const i of ids) {
      const pod = pods[i] ?? '';
      spawns = 0;
      const started = performance.now();
      await wirePod({ podNetns: namedNetns(pod), ifName: 'eth0', hostVeth: hostVethName('bench', `lib-${i}`), podIP: podIP(i) });
      t.add.push(performance.now() - started);
      t.addSpawns.push(spawns);
    }
    for (const i of ids) {
      const pod = pods[i] ?? '';
      spawns = 0;
      const started = performance.now();
      await unwirePod({ podNetns: namedNetns(pod), ifName: 'eth0', hostVeth: hostVethName('bench', `lib-${i}`), podIP: podIP(i) });
      t.del.push(performance.now() - started);
      t.delSpawns.push(spawns);
    }
  } finally {
    stop();
  }
}

async function naively(pods: readonly string[], ids: readonly number[], t: Timing): Promise<void> {
  for (const i of ids) {
    const pod = pods[i] ?? '';
    const veth = hostVethName('bench', `naive-${i}`);
    const mac = randomMac();
    const ip = podIP(i);
    const started = performance.now();
    const cmds: string[][] = [
      ['ip', '-n', pod, 'link', 'add', 'eth0', 'mtu', '1500', 'type', 'veth', 'peer', 'name', veth, 'mtu', '1500', 'address', mac, 'netns', String(process.pid)],
      ['ip', '-n', pod, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', pod, 'addr', 'add', `${ip}/32`, 'dev', 'eth0'],
      ['ip', '-n', pod, 'neigh', 'add', '169.254.1.1', 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent'],
      ['ip', '-n', pod, 'route', 'add', '169.254.1.1/32', 'dev', 'eth0', 'scope', 'link'],
      ['ip', '-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'src', ip],
      ['ip', 'netns', 'exec', pod, 'sysctl', '-qw', 'net.ipv4.conf.eth0.rp_filter=0'],
      ['ip', 'link', 'set', veth, 'up'],
      ['ip', 'route', 'add', `${ip}/32`, 'dev', veth, 'scope', 'link'],
      ['ip', 'rule', 'add', 'priority', '1535', 'to', `${ip}/32`, 'table', 'main'],
      ['sysctl', '-qw', `net.ipv4.conf.${veth}.rp_filter=0`, `net.ipv6.conf.${veth}.accept_ra=0`, 'net.ipv4.ip_forward=1'],
    ];
    for (const c of cmds) await sh(...c);
    t.add.push(performance.now() - started);
    t.addSpawns.push(cmds.length);
  }
  for (const i of ids) {
    const pod = pods[i] ?? '';
    const started = performance.now();
    const cmds = [
      ['ip', '-n', pod, 'link', 'del', 'eth0'],
      ['ip', 'rule', 'del', 'priority', '1535', 'to', `${podIP(i)}/32`, 'table', 'main'],
    ];
    for (const c of cmds) await sh(...c);
    t.del.push(performance.now() - started);
    t.delSpawns.push(cmds.length);
  }
}

function empty(): Timing {
  return { add: [], del: [], addSpawns: [], delSpawns: [] };
}

async function inside(prefix: string): Promise<void> {
  const pods: string[] = [];
  try {
    await applyBatchOrThrow([vethAddOp({ name: 'nic0', peerName: 'vpc0', mac: '52:54:9e:d0:dd:96' })]);
    await setupHostNic({ mac: '52:54:9e:d0:dd:96', vxnetId: 'vxnet-bench01', table: 260, network: '172.22.0.0/16', gateway: '172.22.0.1' });
    for (let i = 0; i < N + WARMUP; i++) {
      const name = `${prefix}-p${i}`;
      pods.push(name);
      await createNamedNetns(name);
    }
    const warm = Array.from({ length: WARMUP }, (_, i) => N + i);
    const ids = Array.from({ length: N }, (_, i) => i);
    await viaLibrary(pods, warm, empty());
    await naively(pods, warm, empty());
    const lib = empty();
    const naive = empty();
    // Interleave halves so that drift on a shared machine hits both sides alike.
    const half = Math.ceil(N / 2);
    await viaLibrary(pods, ids.slice(0, half), lib);
    await naively(pods, ids.slice(0, half), naive);
    await viaLibrary(pods, ids.slice(half), lib);
    await naively(pods, ids.slice(half), naive);

    const f = (x: number) => x.toFixed(2);
    console.log(`@hostnic/netlink pod wiring: ${N} pods each way, Node ${process.versions.node}, node namespace with a NIC on table 260 (rule ${NIC_RULE_PRIORITY})`);
    console.log(`  ADD  library ${f(mean(lib.add))} ms (${mean(lib.addSpawns)} processes)  naive ip ${f(mean(naive.add))} ms (${mean(naive.addSpawns)} processes)  naive/library ${f(mean(naive.add) / mean(lib.add))}x`);
    console.log(`  DEL  library ${f(mean(lib.del))} ms (${mean(lib.delSpawns)} processes)  naive ip ${f(mean(naive.del))} ms (${mean(naive.delSpawns)} processes)  naive/library ${f(mean(naive.del) / mean(lib.del))}x`);
    const libTotal = mean(lib.add) + mean(lib.del);
    const naiveTotal = mean(naive.add) + mean(naive.del);
    console.log(`  ADD+DEL library ${f(libTotal)} ms  naive ip ${f(naiveTotal)} ms  naive/library ${f(naiveTotal / libTotal)}x`);
  } finally {
    for (const p of pods) await deleteNamedNetns(p).catch(() => undefined);
  }
}

async function outside(): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.log('@hostnic/netlink bench skipped: it needs root to create throwaway network namespaces');
    return;
  }
  const prefix = `hnlb-${randomBytes(3).toString('hex')}`;
  const node = `${prefix}-node`;
  await createNamedNetns(node, { loopbackUp: true });
  try {
    const self = fileURLToPath(import.meta.url);
    const { stdout } = await execFileP('ip', ['netns', 'exec', node, process.execPath, ...process.execArgv, self, '--inside', prefix], {
      maxBuffer: 1 << 20,
    });
    process.stdout.write(stdout);
  } finally {
    await deleteNamedNetns(node);
    for (const name of await listNamedNetns()) if (name.startsWith(`${prefix}-`)) await deleteNamedNetns(name);
  }
}

const at = process.argv.indexOf('--inside');
if (at >= 0) await inside(process.argv[at + 1] ?? 'hnlb');
else await outside();
