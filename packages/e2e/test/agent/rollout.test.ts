/**
 * A DaemonSet rollout, as root, with the real agent: SIGTERM while 10 ADDs are in flight, five on a vxnet with
 * a NIC, five on a vxnet whose NIC's attach job the fake IaaS keeps pending past the stop deadline. The agent refuses new ADDs
 * (code 11), lets those in flight run until its stop deadline, aborts and rolls back the rest, and exits
 * within the grace period. Every ADD either completed (the pod has traffic) or failed with nothing of it
 * left; after the DELs kubelet sends, nothing is left at all.
 */
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, PODS2, agentClusterFixture, until } from './harness.ts';
import type { PodRef, RunResult } from './harness.ts';
import { datastoreView, expectNothingLeft } from './leaks.ts';

const isRoot = process.getuid?.() === 0;
const NODE = 'node-1';
/** The agent's stop deadline here; the grace period adds what deploy/ adds for the rollback. */
const STOP_DEADLINE_SEC = 3;
const GRACE_SEC = STOP_DEADLINE_SEC + 10;

function ipOf(add: RunResult): string {
  return (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
}

describe.skipIf(!isRoot)('SIGTERM while 10 ADDs are in flight (e2e)', () => {
  const c = agentClusterFixture('hg', {
    nodes: 1,
    agentsOn: [NODE],
    vxnets: [MGMT, PODS1, PODS2],
    pools: [PODS1.id, PODS2.id],
    mapping: (blocksOf) => ({ Default: [PODS1.id], slow: blocksOf(PODS2.id) }),
    agentConfig: { agent: { stopDeadlineSec: STOP_DEADLINE_SEC } },
  });

  it('the agent exits within the grace period; each ADD completed or was rolled back; nothing leaks', async () => {
    const agent = c().agent(NODE);
    const qc = c().sandbox.qingcloud;
    // The vxnet of namespace default gets its NIC now: its ADDs below need no IaaS call.
    const first = await c().createPod(NODE, 'default', 'first');
    expect((await agent.plugin('ADD', first.ref)).code).toBe(0);
    const pods: { ref: PodRef; vxnet: string }[] = [];
    for (let i = 0; i < 5; i++) pods.push({ ref: (await c().createPod(NODE, 'default', `fast-${i}`)).ref, vxnet: PODS1.id });
    for (let i = 0; i < 5; i++) pods.push({ ref: (await c().createPod(NODE, 'slow', `slow-${i}`)).ref, vxnet: PODS2.id });

    const slowAttach = qc.faults.add({ id: 'slow-attach', action: 'AttachNics', job: { pendingMs: 20_000 } });
    const attaches = qc.requests({ action: 'AttachNics' }).length;
    const adds = pods.map((p) => agent.plugin('ADD', p.ref));
    // In flight: the cold vxnet's NIC is being attached (its job stays pending), its ADDs wait for it.
    await until('the cold vxnet\'s NIC attach to be asked for', 60_000, async () => (qc.requests({ action: 'AttachNics' }).length > attaches ? true : undefined));

    const stopping = agent.child;
    stopping.process.kill('SIGTERM');
    // A new ADD after SIGTERM is refused with code 11: the runtime retries it on the next agent.
    const late = await c().createPod(NODE, 'default', 'late');
    const lateAdd = await agent.plugin('ADD', late.ref);
    expect(lateAdd.code, 'an ADD after SIGTERM').not.toBe(0);
    expect((JSON.parse(lateAdd.stdout) as { code?: number }).code, lateAdd.stdout).toBe(11);

    const exited = await Promise.race([stopping.exited, new Promise((r) => setTimeout(() => r('still running at the end of the grace period'), GRACE_SEC * 1000))]);
    expect(exited, stopping.output()).not.toBe('still running at the end of the grace period');
    expect(stopping.process.exitCode, stopping.output()).toBe(0);
    const results = await Promise.all(adds);
    qc.faults.remove(slowAttach);

    await agent.restart();
    const completed = pods.filter((_, i) => results[i]?.code === 0);
    const failed = pods.filter((_, i) => results[i]?.code !== 0);
    console.log(`rollout: ${completed.length} ADDs completed, ${failed.length} rolled back`);
    // The slow vxnet's ADDs were cut at the deadline (their NIC's job outlasts it): all rolled back, each with
    // an error the runtime retries. The others ran on a NIC already there and finished within the deadline.
    expect(failed.filter((p) => p.vxnet === PODS2.id)).toHaveLength(5);
    for (const [i, r] of results.entries()) {
      if (r.code === 0) {
        expect(await c().sandbox.vpcPing(ipOf(r), { attempts: 3 }), `gateway → completed pod ${pods[i]?.ref.name}`).toBe(true);
      } else {
        expect((JSON.parse(r.stdout) as { code?: number }).code, `rolled back ADD of ${pods[i]?.ref.name}: ${r.stdout}`).toBe(11);
      }
    }
    // Nothing of a rolled-back ADD: only the completed pods (and the first) hold a record and an address.
    let seen = {};
    await until('only the completed pods to hold records and handles', 90_000, async () => {
      const view = await datastoreView(c(), NODE);
      const handles = await c().handles();
      seen = { records: view.pods, intents: view.intents, handles };
      return view.pods.length === completed.length + 1 && handles.length === completed.length + 1 && view.intents.length === 0 ? true : undefined;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(seen)}\n${agent.child.output()}`, { cause: e });
    });

    for (const p of [first, late, ...pods]) {
      const del = await agent.plugin('DEL', p.ref);
      expect(del.code, del.stderr).toBe(0);
    }
    await expectNothingLeft(c(), [NODE], 'after the rollout');
  }, 240_000);
});
