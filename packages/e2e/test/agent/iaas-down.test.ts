/**
 * IaaS-down restart, as root, with the real agent: the fake QingCloud drops every request (as an API endpoint
 * that cannot be reached); the agent is SIGKILLed and started again and becomes ready without it (readiness
 * needs the datastore, the pod cache and the journal, not the IaaS). A warm ADD (its vxnet has a NIC) works
 * at once; a cold ADD (a vxnet with no NIC yet) fails with a clear, retryable error; once the IaaS answers
 * again the same cold ADD succeeds, and after the DELs nothing is left.
 */
import { describe, expect, it } from 'vitest';
import { MGMT, PODS1, PODS2, agentClusterFixture, until } from './harness.ts';
import type { PodRef, RunResult } from './harness.ts';
import { expectNothingLeft } from './leaks.ts';

const isRoot = process.getuid?.() === 0;

/** The CNI error the plugin printed (stdout holds it for a failed verb). */
function cniError(r: RunResult): { code: number; msg: string; details: string } {
  const e = JSON.parse(r.stdout || '{}') as { code?: number; msg?: string; details?: string };
  return { code: e.code ?? -1, msg: e.msg ?? '', details: e.details ?? '' };
}

describe.skipIf(!isRoot)('the agent restarted while the IaaS refuses everything (e2e)', () => {
  const c = agentClusterFixture('hd', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1, PODS2],
    pools: [PODS1.id, PODS2.id],
    mapping: (blocksOf) => ({ Default: [PODS1.id], cold: blocksOf(PODS2.id) }),
  });
  const add = async (pod: PodRef): Promise<RunResult> => c().agent('node-1').plugin('ADD', pod);

  it('ready without the IaaS; warm ADD works, cold ADD fails clearly, then works once the IaaS is back', async () => {
    const qc = c().sandbox.qingcloud;
    const first = await c().createPod('node-1', 'default', 'first');
    const made = await add(first.ref);
    expect(made.code, made.stderr).toBe(0);

    const down = qc.faults.add({ id: 'iaas-down', drop: true });
    const before = qc.requests().length;
    await c().agent('node-1').restart({ signal: 'SIGKILL' });
    // The restart did try the IaaS (the credential check), and got nothing.
    expect(qc.requests().slice(before).some((r) => r.outcome === 'dropped')).toBe(true);

    const warm = await c().createPod('node-1', 'default', 'warm');
    const warmAdd = await add(warm.ref);
    expect(warmAdd.code, `${warmAdd.stdout}\n${warmAdd.stderr}`).toBe(0);
    const warmIp = (JSON.parse(warmAdd.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    expect(warmIp.startsWith('172.16.3.')).toBe(true);
    expect(await c().sandbox.vpcPing(warmIp, { attempts: 3 }), 'vxnet gateway → warm pod').toBe(true);

    const cold = await c().createPod('node-1', 'cold', 'cold');
    const coldAdd = await add(cold.ref);
    expect(coldAdd.code, 'the cold ADD cannot succeed without the IaaS').not.toBe(0);
    const error = cniError(coldAdd);
    // Code 11 (try again later): the runtime retries the ADD; the message names the vxnet and the IaaS.
    expect(error.code, coldAdd.stdout).toBe(11);
    expect(`${error.msg} ${error.details}`, coldAdd.stdout).toMatch(/vxnet-pods002/);
    expect(`${error.msg} ${error.details}`, coldAdd.stdout).toMatch(/QingCloud API did not answer/);
    // The owners the cluster sees: the claim publishes a rolled-back assignment's release in the background.
    expect(await c().handlesWhen(2), 'the failed cold ADD holds no address').toHaveLength(2);
    console.log(`iaas down: warm ADD ok (${warmIp}); cold ADD: code ${error.code}: ${error.msg}`);

    qc.faults.remove(down);
    // As kubelet: the same ADD again, until the IaaS is answering and the NIC is made.
    const retried = await until('the cold ADD to succeed once the IaaS is back', 120_000, async () => {
      const r = await add(cold.ref);
      return r.code === 0 ? r : undefined;
    });
    const coldIp = (JSON.parse(retried.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    expect(coldIp.startsWith('172.16.4.')).toBe(true);
    expect(await c().sandbox.vpcPing(coldIp, { attempts: 3 }), 'vxnet gateway → cold pod').toBe(true);

    for (const p of [first, warm, cold]) {
      const del = await c().agent('node-1').plugin('DEL', p.ref);
      expect(del.code, del.stderr).toBe(0);
    }
    await expectNothingLeft(c(), ['node-1'], 'after the IaaS outage');
  }, 240_000);
});
