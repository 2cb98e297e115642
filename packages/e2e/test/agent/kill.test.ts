/**
 * The kill matrix, as root, with real processes: for each named step the agent runs with HOSTNIC_FAILPOINT set
 * to it and SIGKILLs itself there while serving a pod's ADD or DEL through the bundled plugin; it is started
 * again, the pod's DEL succeeds, and nothing is left: IPAM handles, the node's pod links, rules 1535 and ARP
 * replies, pod records, open intents and claim-ledger assignments in lmdb, spooled releases, route tables of no
 * recorded NIC, NICs of ours in the fake IaaS beyond the recorded ones (leaks.ts). The spool step: the agent is
 * down when the plugin's DEL comes (the plugin spools it), and the agent kills itself while replaying the spool
 * at its next start.
 * (The idle-release steps need `freePeriod` minutes to come; the agent's test/nics/crash.test.ts cuts them
 * in process.)
 */

import { describe, expect, it } from 'vitest';
import { FAILPOINTS } from '@hostnic/agent/failpoints';
import type { FailpointName } from '@hostnic/agent/failpoints';
import { MGMT, PODS1, agentClusterFixture } from './harness.ts';
import type { Child, PodRef } from './harness.ts';
import { expectNothingLeft, spooled } from './leaks.ts';

const isRoot = process.getuid?.() === 0;

// Reached only by the release of a NIC, which the idle timer starts after `freePeriod` minutes.
const RELEASE_STEPS = new Set<FailpointName>(['nic:detached', 'nic:deleted', 'idle-release:begun']);
// The NIC steps first: a cold ADD reaches them only while the vxnet has no NIC.
const STEPS: FailpointName[] = [...FAILPOINTS.filter((s) => s.startsWith('nic:')), ...FAILPOINTS.filter((s) => !s.startsWith('nic:'))].filter(
  (s) => !RELEASE_STEPS.has(s),
);

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

    // The same check for every step: no handle, pod link, rule, ARP reply, record, open intent, claim-ledger
    // assignment, spooled release, stray route table or unrecorded NIC; the recorded NIC stays warm.
    const nics = await expectNothingLeft(c(), ['node-1'], `after ${step}`, 30_000);
    console.log(`kill matrix: ${step}: killed, restarted, DEL ok, nothing left (NICs kept: ${nics.get('node-1')?.length ?? 0})`);
  }, 120_000);
});
