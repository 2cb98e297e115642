/**
 * The kill matrix, as root, with real processes: for each named step the agent runs with HOSTNIC_FAILPOINT set
 * to it and SIGKILLs itself there while serving a pod's ADD or DEL through the bundled plugin; it is started
 * again, the pod's DEL succeeds, and nothing is left: IPAM handles, the node's pod links, rules 1535 and ARP
 * replies, pod records, open intents and claim-ledger assignments in lmdb, spooled releases, NICs of ours in
 * the fake IaaS beyond the recorded ones. The spool step: the agent is down when the plugin's DEL comes (the
 * plugin spools it), and the agent kills itself while replaying the spool at its next start.
 * (The idle-release steps need `freePeriod` minutes to come; the agent's test/nics/crash.test.ts cuts them
 * in process.)
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentDatastore } from '@hostnic/agent/datastore';
import { LmdbClaimLedger } from '@hostnic/ipam/lmdb';
import { FAILPOINTS } from '@hostnic/agent/failpoints';
import type { FailpointName } from '@hostnic/agent/failpoints';
import { MGMT, PODS1, agentClusterFixture, nodeLeftovers, until } from './harness.ts';
import type { AgentCluster, Child, PodRef } from './harness.ts';

const isRoot = process.getuid?.() === 0;
/** The agent's claim ledger, under its state directory (packages/agent/src/daemon/ipam-claim.ts). */
const CLAIM_LEDGER_DIR = 'ipam-claim';

// Reached only by the release of a NIC, which the idle timer starts after `freePeriod` minutes.
const RELEASE_STEPS = new Set<FailpointName>(['nic:detached', 'nic:deleted', 'idle-release:begun']);
// The NIC steps first: a cold ADD reaches them only while the vxnet has no NIC.
const STEPS: FailpointName[] = [...FAILPOINTS.filter((s) => s.startsWith('nic:')), ...FAILPOINTS.filter((s) => !s.startsWith('nic:'))].filter(
  (s) => !RELEASE_STEPS.has(s),
);

/** Releases the plugin spooled and the agent has not replayed yet. */
async function spooled(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json'));
}

/**
 * Pod records and open intents of the node's datastore, and addresses its claim ledger assigns to pods (the
 * truth inside the node's claim, published later), read next to the running agent.
 */
async function datastoreView(c: AgentCluster): Promise<{ pods: number; intents: string[]; nics: string[]; claimed: string[] }> {
  const stateDir = join(c.sandbox.node('node-1').paths.stateDir, 'agent');
  const store = AgentDatastore.open(stateDir);
  const ledger = LmdbClaimLedger.open(join(stateDir, CLAIM_LEDGER_DIR));
  try {
    const s = store.snapshot();
    const claimed = (await ledger.load()).flatMap((e) => (e.assignment === undefined ? [] : [`${e.address} ${e.assignment.handleId}`]));
    return { pods: s.pods.length, intents: s.intents.map((i) => `${i.kind} ${JSON.stringify(i.data)}`), nics: s.nics.map((n) => n.nicId), claimed };
  } finally {
    await ledger.close();
    void store.close();
  }
}

describe.skipIf(!isRoot)('kill matrix: the agent SIGKILLed at every named step (e2e)', () => {
  const c = agentClusterFixture('hk', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
  });
  const restart = (env: Record<string, string>, ready = true): Promise<Child> => c().agent('node-1').restart({ env, ready });

  it.each(STEPS)('%s: killed there, restarted, the DEL succeeds and nothing is left', async (step) => {
    const name = step.replace(/[^a-z]/g, '-');
    const { ref } = await c().createPod('node-1', 'kill', name);
    const plugin = (command: 'ADD' | 'DEL', pod: PodRef) => c().agent('node-1').plugin(command, pod);
    if (step.startsWith('del:') || step === 'spool:released') {
      await restart({});
      const add = await plugin('ADD', ref);
      expect(add.code, add.stderr).toBe(0);
    }
    let doomed: Child;
    if (step === 'spool:released') {
      // The agent is down: the plugin removes the pod's interface itself and spools the release, which the
      // agent replays (and is killed in) at its next start.
      await c().agent('node-1').stop('SIGKILL');
      const del = await plugin('DEL', ref);
      expect(del.code, del.stderr).toBe(0);
      expect(await spooled(c().agent('node-1').spoolDir)).toHaveLength(1);
      doomed = await restart({ HOSTNIC_FAILPOINT: step }, false);
    } else {
      doomed = await restart({ HOSTNIC_FAILPOINT: step });
      // The DEL of a killed agent is finished by the plugin (agent-down path) and the spool; the ADD fails.
      await plugin(step.startsWith('del:') ? 'DEL' : 'ADD', ref);
    }
    expect(await doomed.exited, `the agent was to kill itself at ${step}:\n${doomed.output()}`).toBe('SIGKILL');

    await restart({});
    const del = await plugin('DEL', ref);
    expect(del.code, del.stderr).toBe(0);

    const left = await until(`nothing left after ${step}`, 30_000, async () => {
      const view = await datastoreView(c());
      const handles = await c().handles();
      const kernel = await nodeLeftovers(c().sandbox, 'node-1');
      const spool = await spooled(c().agent('node-1').spoolDir);
      const leftover = { handles, ...kernel, pods: view.pods, intents: view.intents, claimed: view.claimed, spool };
      const clean =
        handles.length === 0 &&
        kernel.links.length === 0 &&
        kernel.rules.length === 0 &&
        kernel.arp.length === 0 &&
        view.pods === 0 &&
        view.intents.length === 0 &&
        view.claimed.length === 0 &&
        spool.length === 0;
      return clean ? view : (console.log(`${step}: waiting`, leftover), undefined);
    });
    // NICs: only the recorded one (kept warm for the next pod) exists in the IaaS; none leaked.
    const ours = c().sandbox.qingcloud.nics().filter((n) => n.nic_name === `hostnic_${c().sandbox.node('node-1').instanceId}`).map((n) => n.nic_id);
    expect(ours.sort()).toEqual([...left.nics].sort());
    console.log(`kill matrix: ${step}: killed, restarted, DEL ok, nothing left (NICs kept: ${left.nics.length})`);
  }, 120_000);
});
