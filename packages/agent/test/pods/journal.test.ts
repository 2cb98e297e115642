/**
 * The pod journal: an ADD or DEL cut off at any named step (the process stops there: nothing after the step
 * runs, no rollback) is finished or undone by the next start's replay; the pod's DEL then succeeds and nothing
 * is left. Also the DEL forms the runtime sends for containers the agent knows little or nothing about.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../../src/failpoints.ts';
import { stopAt } from '../stop-at.ts';
import { CONFIG, expectNothingLeft, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

const ADD_STEPS = FAILPOINTS.filter((s) => s.startsWith('add:'));
const DEL_STEPS = FAILPOINTS.filter((s) => s.startsWith('del:'));

describe.skipIf(!isRoot)('pod journal: operations cut off at every step', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('lists every ADD and DEL step', () => {
    expect(ADD_STEPS).toEqual(['add:intent', 'add:allocated', 'add:nic-leased', 'add:wired', 'add:recorded']);
    expect(DEL_STEPS).toEqual(['del:intent', 'del:unwired', 'del:released', 'del:record-deleted']);
  });

  it.each(ADD_STEPS)('ADD stopped at %s: the replay closes it, DEL without prevResult leaves nothing', async (step) => {
    const pod = await h.podNetns('cut-add');
    const request = h.addRequest(pod);
    const cut = stopAt(step);
    void h.serviceWith({ failpoint: cut.failpoint }).add(request);
    await cut.reached;
    // The record's transaction finishes the ADD's intent: a recorded ADD leaves nothing to replay.
    const recorded = step === 'add:recorded';
    expect(h.store.snapshot().intents.length).toBe(recorded ? 0 : 1);

    const restarted = h.serviceWith({});
    const replay = await restarted.replayJournal();
    expect(replay.failed).toEqual([]);
    expect(replay.finished).toEqual([]);
    // Every cut before the record is undone.
    expect(replay.undone.length).toBe(recorded ? 0 : 1);
    expect(h.store.snapshot().intents).toEqual([]);

    await restarted.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    await expectNothingLeft(h, pod, request);
  });

  it.each(DEL_STEPS)('DEL stopped at %s: the replay finishes it and a repeated DEL succeeds', async (step) => {
    const pod = await h.podNetns('cut-del');
    const request = h.addRequest(pod);
    await h.service.add(request);
    const cut = stopAt(step);
    void h.serviceWith({ failpoint: cut.failpoint }).del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    await cut.reached;
    // The record's removal finishes the DEL's intent in the same transaction: nothing is left to replay then.
    const deleted = step === 'del:record-deleted';
    expect(h.store.snapshot().intents.length).toBe(deleted ? 0 : 1);

    const restarted = h.serviceWith({});
    const replay = await restarted.replayJournal();
    expect(replay.failed).toEqual([]);
    expect(replay.undone).toHaveLength(deleted ? 0 : 1);
    expect(h.store.snapshot().intents).toEqual([]);
    await expectNothingLeft(h, pod, request);
    await restarted.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    await expectNothingLeft(h, pod, request);
  });

  it('DEL of an unknown container succeeds whatever CNI_ARGS hold (no pod namespace, name or infra id)', async () => {
    const attachment = { containerId: 'c0000unknown', ifName: 'eth0', netns: '', podNamespace: '', podName: '', infraContainerId: '', kubernetesPod: false };
    await h.service.del({ attachment, config: CONFIG, timeoutMs: 30_000 });
    expect(h.store.snapshot().intents).toEqual([]);
    expect(await h.ipamStore.listHandles()).toEqual([]);
  });

  it('DEL with no record and no prevResult removes rule 1535 and the ARP reply of the address the IPAM gives back', async () => {
    const pod = await h.podNetns('lost-record');
    const request = h.addRequest(pod);
    await h.service.add(request);
    // The record is lost (e.g. written by nobody before a crash): only the IPAM still knows the address.
    await h.store.deletePod(request.attachment.containerId, request.attachment.ifName);
    await h.service.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    await expectNothingLeft(h, pod, request);
  });

  it('after a reboot (new boot id, kernel state gone behind the agent) the pods of the old boot are released and ADD works', async () => {
    const before = h.serviceWith({ bootId: 'boot-a' });
    const pod = await h.podNetns('rebooted');
    const request = h.addRequest(pod);
    await before.add(request);
    // The reboot: the pod's sandbox and the node's pod links, rules and ARP replies vanish.
    await h.sandbox.exec(pod, ['ip', 'link', 'del', 'eth0']);
    await h.sandbox.exec('node-1', ['ip', 'rule', 'del', 'priority', '1535']);
    await h.sandbox.exec('node-1', ['ebtables', '-t', 'nat', '-F', 'PREROUTING']);
    expect((await nodeSnapshot(h)).links.filter((l) => l.name.startsWith('vnic'))).toEqual([]);

    const after = h.serviceWith({ bootId: 'boot-b' });
    const fresh = h.addRequest(await h.podNetns('after-boot'));
    await after.add(fresh);
    const released = await after.releaseOtherBoots('boot-b');
    expect(released).toEqual({ released: [`${request.attachment.containerId}/eth0`], failed: [] });
    expect((await h.store.listPods()).map((p) => p.containerId)).toEqual([fresh.attachment.containerId]);
    expect(await h.ipamStore.listHandles()).toHaveLength(1);
    await after.del({ attachment: fresh.attachment, config: CONFIG, timeoutMs: 30_000 });
    await expectNothingLeft(h, pod, request);
  });
});
