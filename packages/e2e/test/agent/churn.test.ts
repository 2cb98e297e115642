/**
 * Churn under crashes, as root, with the real agents: 300 pods are added and deleted on two nodes in waves of
 * parallel ADDs while the agent of node-1 is SIGKILLed and restarted at random moments (12 times).
 * An ADD cut by a kill is torn down and tried again, as kubelet does with a failed sandbox. Every pod whose
 * ADD finished must answer pings from its vxnet gateway while it lives (checked right after the ADD and
 * again before its DEL, with kills in between; unreachable for UNREACHABLE_MS counts as lost); at the end nothing is left on either node (leaks.ts).
 *
 * Seeded: the seed is printed; HOSTNIC_CHURN_SEED=<seed> replays the same plan (placement, lifetimes, kill
 * waves and delays; the interleaving with the processes still varies).
 *
 * HOSTNIC_CHURN_LOG_DIR=<dir>: the agents write their logs there (`<node>.log`). The first pods found
 * unreachable on each node get the node's dataplane, the VPC side and the agent's view captured at that moment
 * (unreachable.ts): printed, written to `unreachable-<node>-<pod>.txt` in that directory (else in a temporary
 * one made at the first capture), and summed up with the file's path in the failure message.
 */
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, agentClusterFixture } from './harness.ts';
import type { AgentCluster, PodRef, RunResult } from './harness.ts';
import { expectNothingLeft } from './leaks.ts';
import { captureUnreachable } from './unreachable.ts';
import type { PodNamespace } from '@hostnic/sandbox/cluster';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;
const NODES = ['node-1', 'node-2'] as const;
const KILLED = 'node-1';
const PODS = 300;
/** Parallel ADDs of one wave (moderate: each is a plugin process on 2 shared cores). */
const WAVE = 15;
/** SIGKILLs of node-1's agent, in as many distinct waves. */
const KILLS = 12;
/** How many waves a pod lives: 1..MAX_LIFE. */
const MAX_LIFE = 3;
/** Attempts of one ADD or DEL, as a runtime retries (the agent may be down for a few seconds). */
const ATTEMPTS = 40;

/** mulberry32: a small seeded generator, so that a failing plan can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFromEnv(): number {
  const text = process.env['HOSTNIC_CHURN_SEED'];
  if (text === undefined || text === '') return randomBytes(4).readUInt32LE(0);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`HOSTNIC_CHURN_SEED must be an integer from 0 to 4294967295, got ${JSON.stringify(text)}`);
  return seed;
}

interface LivePod {
  readonly key: string;
  readonly node: string;
  ref: PodRef;
  /** The netns of the sandbox now in use. */
  netns: PodNamespace;
  ip: string;
  /** The wave after which it is deleted. */
  readonly until: number;
}

interface Tally {
  addRetries: number;
  delRetries: number;
  pings: number;
  lostTraffic: string[];
  /** Captures taken per node (the first pods found unreachable there). */
  captures: Map<string, number>;
  /** Where the captures are written: HOSTNIC_CHURN_LOG_DIR, else a temporary directory made at the first capture. */
  reportDir: string | undefined;
}

/** How many unreachable pods of one node get the full capture (a node-wide loss needs one or two). */
const CAPTURES_PER_NODE = 2;

function ipOf(add: RunResult): string {
  return (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
}

/** A verb until it succeeds, as a runtime retries it; the last failure is thrown. */
async function retried(what: string, f: () => Promise<RunResult>, onRetry: () => void): Promise<RunResult> {
  let last: RunResult | undefined;
  for (let i = 0; i < ATTEMPTS; i++) {
    last = await f();
    if (last.code === 0) return last;
    onRetry();
    // A failed verb waits for the agent to come back: the next try is what tells.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} failed ${ATTEMPTS} times; last: ${last?.stdout ?? ''} ${last?.stderr ?? ''}`);
}

/** ADD as kubelet: a failed sandbox is torn down (DEL) and a new one (new container id) is tried. */
async function addPod(c: AgentCluster, pod: LivePod, tally: Tally): Promise<void> {
  const agent = c.agent(pod.node);
  for (let i = 0; i < ATTEMPTS; i++) {
    const add = await agent.plugin('ADD', pod.ref);
    if (add.code === 0) {
      pod.ip = ipOf(add);
      return;
    }
    tally.addRetries++;
    await retried(`DEL of the failed sandbox of ${pod.key}`, () => agent.plugin('DEL', pod.ref), () => tally.delRetries++);
    // A new sandbox, as kubelet makes one: a new container id and its own netns (a late DEL of the failed
    // one, e.g. replayed from the spool, then meets its own netns, not the new sandbox's).
    await pod.netns.remove();
    const netns = await c.sandbox.podNetns(pod.node, `default-${pod.key}-${i + 1}`);
    pod.netns = netns;
    pod.ref = { ...pod.ref, containerId: randomBytes(16).toString('hex'), netnsPath: netns.path };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`ADD of ${pod.key} failed ${ATTEMPTS} times`);
}

/** How long a pod may stay unreachable before it counts as having lost traffic (pings on a loaded machine). */
const UNREACHABLE_MS = 10_000;

async function checkTraffic(c: AgentCluster, pod: LivePod, when: string, tally: Tally): Promise<void> {
  tally.pings++;
  const since = Date.now();
  while (Date.now() - since < UNREACHABLE_MS) {
    if (await c.sandbox.vpcPing(pod.ip, { attempts: 3 })) {
      if (Date.now() - since > 3_500) console.log(`churn: ${pod.key} (${pod.ip} on ${pod.node}) answered ${when} after ${Date.now() - since} ms`);
      return;
    }
  }
  let lost = `${pod.key} (${pod.ip} on ${pod.node}) ${when}`;
  // Said at once: a long run stopped early still shows it.
  console.log(`churn: lost traffic: ${lost}`);
  const taken = tally.captures.get(pod.node) ?? 0;
  if (taken < CAPTURES_PER_NODE) {
    tally.captures.set(pod.node, taken + 1);
    tally.reportDir ??= await mkdtemp(join(tmpdir(), 'hostnic-churn-'));
    const capture = await captureUnreachable(c, { key: pod.key, node: pod.node, ip: pod.ip, vxnetId: PODS1.id, netns: pod.netns }, tally.reportDir);
    console.log(`churn: state of ${pod.node} when ${pod.key} was unreachable (${capture.file ?? ''}):\n${capture.report}`);
    lost += ` [${capture.facts}; full capture: ${capture.file ?? '-'}]`;
  }
  tally.lostTraffic.push(lost);
}

describe.skipIf(!isRoot)('churn: 300 pods on two nodes while one agent is SIGKILLed at random (e2e)', () => {
  const c = agentClusterFixture('hc', {
    nodes: 2,
    agentsOn: [...NODES],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
    // 300 pods pass through a /24: released addresses come back after a short cooldown.
    agentConfig: { agent: { releaseCooldownSec: 5 } },
    logDir: process.env['HOSTNIC_CHURN_LOG_DIR'] || undefined,
  });

  it('no pod that finished ADD loses traffic, and nothing is left', async () => {
    const seed = seedFromEnv();
    console.log(`churn: seed ${seed} (HOSTNIC_CHURN_SEED=${seed} replays it)`);
    const random = seeded(seed);
    const reportDir = process.env['HOSTNIC_CHURN_LOG_DIR'] || undefined;
    const tally: Tally = { addRetries: 0, delRetries: 0, pings: 0, lostTraffic: [], captures: new Map(), reportDir };
    const started = Date.now();

    // The kill plan, from the seed: KILLS distinct waves, each killed after a random delay into the wave (while
    // its ADDs and DELs are in flight).
    const waves = Math.ceil(PODS / WAVE);
    const killWaves = new Map<number, number>();
    while (killWaves.size < KILLS) killWaves.set(1 + Math.floor(random() * waves), Math.floor(random() * 1500));
    let kills = 0;
    const restartMs: number[] = [];
    const killDuring = async (wave: number): Promise<void> => {
      const delay = killWaves.get(wave);
      if (delay === undefined) return;
      await new Promise((r) => setTimeout(r, delay));
      const t = Date.now();
      await c().agent(KILLED).restart({ signal: 'SIGKILL' });
      restartMs.push(Date.now() - t);
      kills++;
    };

    const live: LivePod[] = [];
    let made = 0;
    let wave = 0;
    while (made < PODS || live.length > 0) {
      wave++;
      const ending = live.filter((p) => p.until <= wave || made >= PODS);
      const batch: LivePod[] = [];
      for (let i = 0; i < WAVE && made < PODS; i++, made++) {
        const node = random() < 0.5 ? NODES[0] : NODES[1];
        const key = `c${made}`;
        const { ref, netns } = await c().createPod(node, 'default', key);
        batch.push({ key, node, ref, netns, ip: '', until: wave + 1 + Math.floor(random() * MAX_LIFE) });
      }
      await Promise.all([
        killDuring(wave),
        ...batch.map(async (p) => {
          await addPod(c(), p, tally);
          await checkTraffic(c(), p, 'after its ADD', tally);
        }),
        ...ending.map(async (p) => {
          await checkTraffic(c(), p, `before its DEL (wave ${wave}, ${kills} kills so far)`, tally);
          await retried(`DEL of ${p.key}`, () => c().agent(p.node).plugin('DEL', p.ref), () => tally.delRetries++);
          await p.netns.remove();
        }),
      ]);
      for (const p of ending) live.splice(live.indexOf(p), 1);
      live.push(...batch);
      console.log(`churn: wave ${wave}: ${made} made, ${live.length} live, ${kills} kills (restarts took ${restartMs.join(', ')} ms), ${Math.round((Date.now() - started) / 1000)} s`);
    }
    console.log(
      `churn: ${made} pods in ${wave} waves, ${kills} kills of ${KILLED}'s agent, ${tally.addRetries} ADD retries, ` +
        `${tally.delRetries} DEL retries, ${tally.pings} pings, ${Math.round((Date.now() - started) / 1000)} s; ` +
        `agent restarts took ${Math.min(...restartMs)}..${Math.max(...restartMs)} ms`,
    );
    expect(tally.lostTraffic, `seed ${seed}`).toEqual([]);
    expect(kills).toBe(KILLS);
    await expectNothingLeft(c(), NODES, `after the churn (seed ${seed})`, 120_000);
  }, 1_800_000);
});

