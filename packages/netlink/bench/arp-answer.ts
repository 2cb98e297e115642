/**
 * The pod's ARP answer, the two ways, alternating in one run so that both see the same machine load: the
 * proxy neighbour entry inside the host batch (this release) versus the host batch plus an ebtables arpreply
 * under the lock file (earlier releases). Reports wall time and processes per ADD and per DEL. Needs root;
 * everything lives in throwaway namespaces. `BENCH_PODS` rounds per way (default 15).
 */
import { performance } from 'node:perf_hooks';
import type { ArpReplyMatch, Netns } from '../src/index.ts';
import { bridgeName, hostVethName, installArpReply, nicLinkName, onSpawn, removeArpReply, setupHostNic, unwirePod, wirePod } from '../src/index.ts';
import { NIC, Namespaces, buildNode, tempDir } from '../test/helpers.ts';

const N = Number(process.env['BENCH_PODS'] ?? 15);
if (process.getuid?.() !== 0) {
  console.log('arp-answer bench: needs root; skipped');
  process.exit(0);
}

const spaces = new Namespaces();
const lock = await tempDir();
try {
  const node = await spaces.create('node', true);
  await buildNode(node.ns);
  await setupHostNic(NIC, { netns: node.ns });
  const ebtables = { netns: node.ns, lockPath: `${lock.dir}/hostnic.lock` };
  const bridge = bridgeName(NIC.table);
  const times: Record<'proxy' | 'ebtables', { add: number[]; del: number[]; addSpawns: number; delSpawns: number }> = {
    proxy: { add: [], del: [], addSpawns: 0, delSpawns: 0 },
    ebtables: { add: [], del: [], addSpawns: 0, delSpawns: 0 },
  };
  // The form this kernel takes, learnt once as the agent did (a refused --logical-in is not retried).
  let form: ArpReplyMatch | undefined;
  let spawns = 0;
  const stop = onSpawn(() => spawns++);
  for (let i = 0; i < 2 * N; i++) {
    const way = i % 2 === 0 ? 'proxy' : 'ebtables';
    const pod: { ns: Netns } = await spaces.create(`p${i}`);
    const ip = `172.22.0.${100 + (i % 100)}`;
    const hostVeth = hostVethName('bench', `p${i}`);
    const spec = { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth, podIP: ip };
    const t = times[way];
    spawns = 0;
    let start = performance.now();
    const w = await wirePod(way === 'proxy' ? { ...spec, proxyArpDev: bridge } : spec);
    const entry = way === 'ebtables' ? await installArpReply({ ip, mac: NIC.mac, bridge, nicLink: nicLinkName(NIC.vxnetId) }, ebtables, form) : undefined;
    form = entry?.match ?? form;
    t.add.push(performance.now() - start);
    t.addSpawns += spawns;
    spawns = 0;
    start = performance.now();
    if (entry) await removeArpReply(entry, ebtables);
    await unwirePod({ ...spec, hostMac: w.hostMac, proxyArp: way === 'proxy' ? { dev: bridge } : undefined });
    t.del.push(performance.now() - start);
    t.delSpawns += spawns;
  }
  stop();
  const p50 = (v: number[]): string => ([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN).toFixed(1);
  console.log(`ARP answer, ${N} pods each way, alternating:`);
  for (const [way, t] of Object.entries(times)) {
    console.log(`  ${way.padEnd(9)} ADD p50 ${p50(t.add).padStart(6)} ms, ${(t.addSpawns / N).toFixed(1)} processes   DEL p50 ${p50(t.del).padStart(6)} ms, ${(t.delSpawns / N).toFixed(1)} processes`);
  }
} finally {
  await spaces.cleanup();
  await lock.remove();
}
