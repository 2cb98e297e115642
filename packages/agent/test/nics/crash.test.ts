/**
 * NIC work cut off at every named step (nothing after the step runs, as after a SIGKILL there): a restarted
 * manager's reconcile finishes or undoes it. Afterwards no intent is open, every route table is bound to a
 * record, a release cut off is finished (never re-attached), and once the vxnet's NIC is released nothing of
 * ours is left in the IaaS, the datastore or the node's tables.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentDatastore } from '../../src/datastore/index.ts';
import type { FailpointName } from '../../src/failpoints.ts';
import { stopAt } from '../stop-at.ts';
import { VXNET_A, isRoot, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

const CREATE_STEPS: FailpointName[] = ['nic:created', 'nic:table-reserved', 'nic:attached'];
const RELEASE_STEPS: FailpointName[] = ['idle-release:begun', 'nic:detached', 'nic:deleted'];

describe.skipIf(!isRoot)('NIC work cut off at every step, finished by the next start', () => {
  let h: Harness;
  let dir: string;
  let store: AgentDatastore;

  beforeEach(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'hostnic-niccrash-'));
    store = AgentDatastore.open(join(dir, 'agent'));
  });

  afterEach(async () => {
    try {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    } finally {
      await h.close();
    }
  });

  /** Our NICs the fake IaaS still has. */
  const ours = (): string[] => h.sandbox.qingcloud.nics().filter((n) => n.nic_name === `hostnic_${h.instanceId}`).map((n) => n.nic_id);

  async function expectConverged(): Promise<void> {
    expect(store.snapshot().intents).toEqual([]);
    const records = await store.listNics();
    expect((await store.listRouteTables()).map((t) => t.nicId)).toEqual(records.map((r) => r.nicId));
    expect(ours().sort()).toEqual(records.map((r) => r.nicId).sort());
  }

  async function expectNothingLeft(): Promise<void> {
    expect(store.snapshot().intents).toEqual([]);
    expect(await store.listNics()).toEqual([]);
    expect(await store.listRouteTables()).toEqual([]);
    expect(ours()).toEqual([]);
    const tables = (await h.sandbox.exec('node-1', ['ip', 'rule', 'show'])).stdout.split('\n').filter((l) => l.startsWith('1536:'));
    expect(tables).toEqual([]);
  }

  it.each(CREATE_STEPS)('create stopped at %s: reconcile converges, the release leaves nothing', async (step) => {
    const cut = stopAt(step);
    void h.manager({ store, failpoint: cut.failpoint }).ensureNic(VXNET_A);
    await cut.reached;

    const restarted = h.manager({ store });
    const summary = await restarted.reconcile();
    expect(summary.errors).toEqual([]);
    if (step === 'nic:table-reserved') expect(summary.tablesReleased).toEqual([260]);
    await expectConverged();

    const nic = await restarted.ensureNic(VXNET_A);
    expect(nic.phase).toBe('Succeeded');
    expect(await restarted.releaseNic(nic.nicId)).toMatchObject({ released: true });
    await expectNothingLeft();
  });

  it.each(RELEASE_STEPS)('release stopped at %s: reconcile finishes it instead of attaching the NIC again', async (step) => {
    const nic = await h.manager({ store }).ensureNic(VXNET_A);
    const cut = stopAt(step);
    void h.manager({ store, failpoint: cut.failpoint }).releaseNic(nic.nicId);
    await cut.reached;

    const summary = await h.manager({ store }).reconcile();
    expect(summary.errors).toEqual([]);
    expect(summary.reattached).toEqual([]);
    expect(summary.releasesFinished).toEqual([nic.nicId]);
    await expectNothingLeft();
  });

  it('a release cut off is finished by the next ensureNic too (an ADD before the reconcile), then a new NIC is made', async () => {
    const nic = await h.manager({ store }).ensureNic(VXNET_A);
    const cut = stopAt('nic:detached');
    void h.manager({ store, failpoint: cut.failpoint }).releaseNic(nic.nicId);
    await cut.reached;

    const restarted = h.manager({ store });
    const fresh = await restarted.ensureNic(VXNET_A);
    expect(fresh.nicId).not.toBe(nic.nicId);
    expect(ours()).toEqual([fresh.nicId]);
    await expectConverged();
    await restarted.releaseNic(fresh.nicId);
    await expectNothingLeft();
  });
});
