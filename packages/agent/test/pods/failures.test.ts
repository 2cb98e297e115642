/**
 * ADD failing at the steps after the wiring (Calico annotation, record) and at the ARP answer: each answers its
 * CNI code and leaves nothing on the node, in IPAM or in the datastore.
 */

import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniCode, PodError } from '../../src/pods/index.ts';
import type { PodAnnotator, PodStore } from '../../src/pods/index.ts';
import { arpReplyIps, expectNothingLeft, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

async function addError(add: Promise<unknown>): Promise<PodError> {
  const outcome = await add.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof PodError)) throw new Error(`expected a PodError, got ${String(outcome)}`);
  return outcome;
}

/** A datastore whose pod writes fail, as a full or broken lmdb environment would. */
function storeFailingPutPod(h: PodHarness): PodStore {
  const s = h.store;
  return {
    getPod: (containerId, ifName) => s.getPod(containerId, ifName),
    putPod: () => Promise.reject(new Error('MDB_MAP_FULL: Environment mapsize limit reached')),
    deletePod: (containerId, ifName) => s.deletePod(containerId, ifName),
    listPods: () => s.listPods(),
    beginIntent: (kind, data) => s.beginIntent(kind, data),
    updateIntent: (id, data) => s.updateIntent(id, data),
    finishIntent: (id) => s.finishIntent(id),
    listIntents: () => s.listIntents(),
    listNics: () => s.listNics(),
    listRouteTables: () => s.listRouteTables(),
  };
}

describe.skipIf(!isRoot)('PodService ADD failures after the wiring', () => {
  let h: PodHarness | undefined;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('ARP answer: ADD, CHECK and DEL never call ebtables (one that refuses everything changes nothing)', async () => {
    if (!h) throw new Error('no harness');
    const program = join(h.dir, 'ebtables-refusing');
    const log = join(h.dir, 'ebtables.log');
    await writeFile(program, `#!/bin/sh\necho "$*" >> ${log}\necho "ebtables: simulated refusal" >&2\nexit 1\n`);
    await chmod(program, 0o755);
    const service = h.serviceWith({ ebtablesProgram: program });
    const pod = await h.podNetns('arp-proxy');
    const request = h.addRequest(pod);
    const { result } = await service.add(request);
    const ip = (result.ips[0]?.address ?? '').replace('/32', '');
    expect(await arpReplyIps(h)).toEqual([ip]);
    await service.check({ attachment: request.attachment, config: request.config, prevResult: result, timeoutMs: 30_000 });
    await service.del({ attachment: request.attachment, config: request.config, prevResult: result, timeoutMs: 30_000 });
    expect(await readFile(log, 'utf8').catch(() => '')).toBe('');
    await expectNothingLeft(h, pod, request);
  });

  it('ARP answer: the vxnet\'s bridge is gone → wire-pod fails, nothing left', async () => {
    if (!h) throw new Error('no harness');
    // A warm NIC first, then its bridge vanishes under it: the proxy line of the host batch fails.
    await h.service.add(h.addRequest(await h.podNetns('warm')));
    const pod = await h.podNetns('no-bridge');
    const request = h.addRequest(pod);
    await h.sandbox.exec('node-1', ['ip', 'link', 'set', 'br_260', 'down']);
    await h.sandbox.exec('node-1', ['ip', 'link', 'set', 'br_260', 'name', 'br_gone']);
    const error = await addError(h.service.add(request));
    expect(error.step).toBe('wire-pod');
    expect(error.message).not.toMatch(/rollback incomplete/);
    const a = request.attachment;
    expect(await h.store.getPod(a.containerId, a.ifName)).toBeUndefined();
    expect((await h.sandbox.exec(pod, ['ip', '-o', 'link', 'show', a.ifName])).code).not.toBe(0);
    expect((await nodeSnapshot(h)).rules.filter((r) => r.priority === 1535)).toHaveLength(1);
  });

  it('datastore step: the pod record cannot be written → 104, nothing left', async () => {
    if (!h) throw new Error('no harness');
    const service = h.serviceWith({ store: storeFailingPutPod(h) });
    const pod = await h.podNetns('db-fail');
    const request = h.addRequest(pod);

    const error = await addError(service.add(request));
    expect(error.step).toBe('record');
    expect(error.cniCode).toBe(CniCode.datastore);
    expect(error.cniCode).toBe(104);
    expect(error.message).toMatch(/MDB_MAP_FULL/);
    expect(error.message).not.toMatch(/rollback incomplete/);
    await expectNothingLeft(h, pod, request);
  });

  it('Calico annotation: the annotator is called with the bare pod IP after the wiring', async () => {
    if (!h) throw new Error('no harness');
    const calls: [string, string, string][] = [];
    const annotator: PodAnnotator = async (namespace, name, ip) => {
      calls.push([namespace, name, ip]);
    };
    const service = h.serviceWith({ podAnnotator: annotator });
    const pod = await h.podNetns('calico-ok');
    const request = h.addRequest(pod);
    const { result } = await service.add(request);
    const ip = (result.ips[0]?.address ?? '').replace(/\/32$/, '');
    expect(ip).toMatch(/^172\.16\.3\.\d+$/);
    expect(calls).toEqual([['default', pod.pod, ip]]);
    expect(await h.store.getPod(request.attachment.containerId, 'eth0')).toMatchObject({ ip });
    // A repeated ADD answers from the record, which exists only once the annotations were written.
    await service.add(request);
    expect(calls).toHaveLength(1);
  });

  it('Calico annotation: a failed patch rolls the ADD back completely (11 when transient, 106 otherwise)', async () => {
    if (!h) throw new Error('no harness');
    const transient: PodAnnotator = () =>
      Promise.reject(new PodError('annotate-pod', CniCode.tryAgain, 'annotate-pod failed: apiserver answered 503'));
    const pod = await h.podNetns('calico-503');
    const request = h.addRequest(pod);
    const busy = await addError(h.serviceWith({ podAnnotator: transient }).add(request));
    expect(busy.step).toBe('annotate-pod');
    expect(busy.cniCode).toBe(11);
    await expectNothingLeft(h, pod, request);

    const refused: PodAnnotator = () => Promise.reject(new Error('pods "calico-403" is forbidden'));
    const pod2 = await h.podNetns('calico-403');
    const request2 = h.addRequest(pod2);
    const forbidden = await addError(h.serviceWith({ podAnnotator: refused }).add(request2));
    expect(forbidden.step).toBe('annotate-pod');
    expect(forbidden.cniCode).toBe(106);
    expect(forbidden.message).toMatch(/forbidden/);
    await expectNothingLeft(h, pod2, request2);
  });
});
