import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotLeaderError, fenceOf } from '../../src/fence.ts';
import { NicJanitorOptionsError, NicSkipCode, NicSweepError } from '../../src/cleanup/index.ts';
import type { NicJanitor, NodeInventory, SweepResult } from '../../src/cleanup/index.ts';
import type { Harness } from './helpers.ts';
import { CLUSTER_TAG, GONE, GRACE, LIVE_1, LIVE_2, OTHER, STRANGER, clusterInventory, node, startHarness } from './helpers.ts';

let h: Harness;
let inventory: NodeInventory;

beforeEach(async () => {
  h = await startHarness();
  inventory = clusterInventory(h.clock.ms);
});

afterEach(async () => {
  await h.close();
});

/** Sweeps once now, once half-way through the grace period and once after it, as a controller's timer would. */
async function sweepPastGrace(janitor: NicJanitor, graceMs = GRACE): Promise<SweepResult[]> {
  const results = [await janitor.sweep(inventory)];
  h.clock.advance(graceMs / 2);
  results.push(await janitor.sweep(inventory));
  h.clock.advance(graceMs / 2);
  results.push(await janitor.sweep(inventory));
  return results;
}

function skipCode(result: SweepResult, nicId: string): string | undefined {
  return result.skipped.find((s) => s.nicId === nicId)?.code;
}

describe('NicJanitor against the fake QingCloud', () => {
  it('never touches the NICs of live nodes', async () => {
    const attached = await h.addNic(`hostnic_${LIVE_1}`, { instanceId: LIVE_1, tags: [CLUSTER_TAG] });
    const other = await h.addNic(`hostnic_${LIVE_2}`, { instanceId: LIVE_2 });
    // Unattached, named after a live node: the agent may be about to attach it, so it waits 3 grace periods.
    const creating = await h.addNic(`hostnic_${LIVE_1}`);
    const janitor = h.janitor();

    const results = await sweepPastGrace(janitor);
    h.clock.advance(GRACE);
    results.push(await janitor.sweep(inventory));

    for (const r of results) {
      expect(r.deleted).toEqual([]);
      expect(r.errors).toEqual([]);
      expect(skipCode(r, attached)).toBe(NicSkipCode.LiveNode);
      expect(skipCode(r, other)).toBe(NicSkipCode.LiveNode);
    }
    expect(skipCode(results.at(-1) as SweepResult, creating)).toBe(NicSkipCode.Grace);
    expect(h.nic(attached)?.instance_id).toBe(LIVE_1);
    expect(h.nic(other)?.instance_id).toBe(LIVE_2);
    expect(h.nic(creating)).toBeDefined();
    expect(h.calls('DetachNics') + h.calls('DeleteNics')).toBe(0);
  });

  it('keeps a NIC on a departed instance through first sight and the grace period, then detaches and deletes it', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const janitor = h.janitor();

    const [first, middle, last] = await sweepPastGrace(janitor);
    expect(first?.deleted).toEqual([]);
    expect(first && skipCode(first, leaked)).toBe(NicSkipCode.FirstSight);
    expect(first?.pending).toBe(1);
    expect(middle?.deleted).toEqual([]);
    expect(middle && skipCode(middle, leaked)).toBe(NicSkipCode.Grace);

    expect(last).toMatchObject({ detached: [leaked], deleted: [leaked], errors: [], pending: 0, planned: 1 });
    expect(h.nic(leaked)).toBeUndefined();
    expect(h.calls('DetachNics')).toBe(1);
    expect(h.calls('DeleteNics')).toBe(1);
    expect(janitor.totals).toMatchObject({ sweeps: 3, detached: 1, deleted: 1, errors: 0, failedSweeps: 0 });
    expect(janitor.watching).toBe(0);
  });

  it('deletes an unattached NIC of a departed node after the grace period', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`);
    const janitor = h.janitor();
    const [first, , last] = await sweepPastGrace(janitor);
    expect(first?.deleted).toEqual([]);
    expect(last).toMatchObject({ deleted: [leaked], detached: [], errors: [] });
    expect(h.nic(leaked)).toBeUndefined();
    expect(h.calls('DetachNics')).toBe(0);
  });

  it("never touches another cluster's NICs", async () => {
    const attached = await h.addNic(`hostnic_${OTHER}`, { instanceId: OTHER });
    const loose = await h.addNic(`hostnic_${OTHER}`);
    const janitor = h.janitor();
    const results = await sweepPastGrace(janitor);
    h.clock.advance(10 * GRACE);
    results.push(await janitor.sweep(inventory));
    for (const r of results) {
      expect(r.planned).toBe(0);
      expect(skipCode(r, attached)).toBe(NicSkipCode.Foreign);
      expect(skipCode(r, loose)).toBe(NicSkipCode.Foreign);
    }
    expect(h.nic(attached)?.instance_id).toBe(OTHER);
    expect(h.nic(loose)).toBeDefined();
    expect(h.calls('DetachNics') + h.calls('DeleteNics')).toBe(0);
  });

  it('removes a NIC carrying the cluster tag from an instance that was never a node', async () => {
    const tagged = await h.addNic(`hostnic_${STRANGER}`, { instanceId: STRANGER, tags: [CLUSTER_TAG] });
    const untagged = await h.addNic(`hostnic_${STRANGER}`);
    const [, , last] = await sweepPastGrace(h.janitor());
    expect(last).toMatchObject({ detached: [tagged], deleted: [tagged], errors: [] });
    expect(last && skipCode(last, untagged)).toBe(NicSkipCode.Foreign);
    expect(h.nic(tagged)).toBeUndefined();
    expect(h.nic(untagged)).toBeDefined();
  });

  it('never touches primary NICs', async () => {
    const primary = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE, role: 1, tags: [CLUSTER_TAG] });
    const janitor = h.janitor();
    const results = await sweepPastGrace(janitor);
    for (const r of results) expect(skipCode(r, primary)).toBe(NicSkipCode.Primary);
    expect(h.nic(primary)?.instance_id).toBe(GONE);
    expect(h.calls('DetachNics') + h.calls('DeleteNics')).toBe(0);
  });

  it('takes a second look: a NIC attached to a live node after listing is left alone', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`);
    const janitor = h.janitor();
    await janitor.sweep(inventory);
    h.clock.advance(GRACE);

    const plan = await janitor.plan(inventory);
    expect(plan.actions).toMatchObject([{ kind: 'delete', nicId: leaked }]);
    // Meanwhile an agent picks the NIC up.
    const job = await h.client.attachNics({ nics: [leaked], instance: LIVE_1 });
    if (job.jobId !== undefined) await h.client.waitJob(job.jobId, { initialIntervalMs: 5, maxIntervalMs: 20 });

    const result = await janitor.execute(plan, inventory);
    expect(result.deleted).toEqual([]);
    expect(result.skipped.find((s) => s.nicId === leaked && s.code === NicSkipCode.Changed)?.reason).toMatch(/in-use on i-live0001/);
    expect(h.nic(leaked)?.instance_id).toBe(LIVE_1);
    expect(h.calls('DeleteNics')).toBe(0);
    expect(janitor.totals.changed).toBe(1);

    // From now on it is a live node's NIC.
    h.clock.advance(10 * GRACE);
    expect(skipCode(await janitor.sweep(inventory), leaked)).toBe(NicSkipCode.LiveNode);
  });

  it('takes a second look: a node that came back keeps its NIC', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const janitor = h.janitor();
    await janitor.sweep(inventory);
    h.clock.advance(GRACE);
    const plan = await janitor.plan(inventory);
    expect(plan.actions).toHaveLength(1);
    const back = clusterInventory(h.clock.ms);
    back.observe([node('node-1', LIVE_1), node('node-3', GONE)], h.clock.ms);
    const result = await janitor.execute(plan, back);
    expect(result.skipped.find((s) => s.code === NicSkipCode.Changed)?.reason).toMatch(/node again/);
    expect(h.nic(leaked)?.instance_id).toBe(GONE);
    expect(h.calls('DetachNics')).toBe(0);
  });

  it('counts a NIC deleted by someone else meanwhile as done', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`);
    const janitor = h.janitor();
    await janitor.sweep(inventory);
    h.clock.advance(GRACE);
    const plan = await janitor.plan(inventory);
    await h.client.deleteNics([leaked]);
    const result = await janitor.execute(plan, inventory);
    expect(result).toMatchObject({ deleted: [leaked], errors: [] });
    expect(janitor.totals).toMatchObject({ gone: 1, deleted: 0 });
    expect(h.calls('DeleteNics')).toBe(1);
  });

  it('isolates a NIC whose delete keeps failing (server busy) and finishes it on the next sweep', async () => {
    const stuck = await h.addNic(`hostnic_${GONE}`);
    const fine = await h.addNic(`hostnic_${GONE}`);
    const janitor = h.janitor();
    h.fake.faults.add({ id: 'busy', action: 'DeleteNics', resourceId: stuck, retCode: 5100 });

    const [, , last] = await sweepPastGrace(janitor);
    expect(last?.deleted).toEqual([fine]);
    expect(last?.errors).toMatchObject([{ nicId: stuck, step: 'delete', error: expect.stringMatching(/5100/) as string }]);
    expect(h.nic(stuck)).toBeDefined();
    expect(janitor.totals.errors).toBe(1);

    h.fake.faults.remove('busy');
    // No new grace period: the NIC is unchanged and was due already.
    const next = await janitor.sweep(inventory);
    expect(next).toMatchObject({ deleted: [stuck], errors: [] });
    expect(h.nic(stuck)).toBeUndefined();
  });

  it('leaves the NIC attached when the DetachNics job fails, and detaches it on the next sweep', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const janitor = h.janitor();
    h.fake.faults.add({ action: 'DetachNics', job: 'fail', times: 1 });

    const [, , last] = await sweepPastGrace(janitor);
    expect(last).toMatchObject({ detached: [], deleted: [], errors: [{ nicId: leaked, step: 'detach' }] });
    expect(h.nic(leaked)).toMatchObject({ status: 'in-use', instance_id: GONE, lock: null });

    const next = await janitor.sweep(inventory);
    expect(next).toMatchObject({ detached: [leaked], deleted: [leaked], errors: [] });
    expect(h.nic(leaked)).toBeUndefined();
  });

  it('deletes a NIC it detached on the next sweep when the delete failed', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const janitor = h.janitor();
    h.fake.faults.add({ id: 'broken', action: 'DeleteNics', retCode: 5000, message: 'internal error' });

    const [, , last] = await sweepPastGrace(janitor);
    expect(last).toMatchObject({ detached: [leaked], deleted: [], errors: [{ nicId: leaked, step: 'delete' }] });
    expect(h.nic(leaked)).toMatchObject({ status: 'available', instance_id: '' });

    h.fake.faults.remove('broken');
    const next = await janitor.sweep(inventory);
    expect(next).toMatchObject({ deleted: [leaked], detached: [], errors: [] });
    expect(h.nic(leaked)).toBeUndefined();
    expect(h.calls('DetachNics')).toBe(1);
  });

  it('deletes on the next sweep a NIC whose detach job outlasted the wait', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const janitor = h.janitor({ jobTimeoutMs: 30 });
    h.fake.faults.add({ action: 'DetachNics', job: { workMs: 150 }, times: 1 });

    const [, , last] = await sweepPastGrace(janitor);
    expect(last).toMatchObject({ detached: [], deleted: [], errors: [{ nicId: leaked, step: 'detach' }] });
    expect(last?.errors[0]?.error).toMatch(/did not finish/);
    await until(() => h.nic(leaked)?.status === 'available');

    // Unattached now, by our own doing: not a change that restarts the grace period.
    const next = await janitor.sweep(inventory);
    expect(next).toMatchObject({ deleted: [leaked], errors: [] });
    expect(h.nic(leaked)).toBeUndefined();
  });

  it('changes nothing and keeps its watches when the NICs cannot be listed', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`);
    const janitor = h.janitor();
    await janitor.sweep(inventory);
    h.clock.advance(GRACE);
    h.fake.faults.add({ id: 'down', action: 'DescribeNics', retCode: 1400, message: 'denied' });
    await expect(janitor.sweep(inventory)).rejects.toThrow(NicSweepError);
    expect(janitor.totals.failedSweeps).toBe(1);
    expect(janitor.watching).toBe(1);

    h.fake.faults.remove('down');
    expect(await janitor.sweep(inventory)).toMatchObject({ deleted: [leaked] });
  });

  it('does not write once the lease is lost', async () => {
    const leaked = await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    let leader = true;
    const janitor = h.janitor({ fence: fenceOf(() => leader) });
    await janitor.sweep(inventory);
    h.clock.advance(GRACE);
    leader = false;
    await expect(janitor.sweep(inventory)).rejects.toThrow(NotLeaderError);
    expect(h.nic(leaked)?.instance_id).toBe(GONE);
    expect(h.calls('DetachNics')).toBe(0);
  });

  it('handles many leaked NICs in one sweep, with paging', async () => {
    const leaked: string[] = [];
    for (let i = 0; i < 7; i++) leaked.push(await h.addNic(`hostnic_${GONE}`, i % 2 === 0 ? { instanceId: GONE } : {}));
    const [, , last] = await sweepPastGrace(h.janitor({ concurrency: 3 }));
    expect([...(last?.deleted ?? [])].sort()).toEqual([...leaked].sort());
    expect(last?.detached).toHaveLength(4);
    expect(h.fake.nics().filter((n) => n.nic_name === `hostnic_${GONE}`)).toEqual([]);
    // The listing came in pages of 3 (the fake's limit).
    expect(h.calls('DescribeNics')).toBeGreaterThan(3 * 3);
  });

  it('refuses a second sweep while one runs, and bad options', async () => {
    const janitor = h.janitor();
    const running = janitor.sweep(inventory);
    await expect(janitor.sweep(inventory)).rejects.toThrow(NicSweepError);
    await running;
    expect(() => h.janitor({ graceMs: -1 })).toThrow(NicJanitorOptionsError);
    expect(() => h.janitor({ concurrency: 0 })).toThrow(NicJanitorOptionsError);
  });

  it('reports minutes in its reasons, not wall-clock times', async () => {
    await h.addNic(`hostnic_${GONE}`, { instanceId: GONE });
    const [, middle] = await sweepPastGrace(h.janitor());
    expect(middle?.skipped[0]?.reason).toMatch(/unchanged for 5m of a 10m grace period/);
  });
});

/** Polls the fake's state (jobs finish on real timers); bounded so that a broken test fails instead of hanging. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
