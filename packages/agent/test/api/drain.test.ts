/**
 * Stopping with ADDs in flight (a DaemonSet rollout): new ADDs are refused with code 11, the ADDs that finish
 * before the deadline are kept, the rest are aborted there and rolled back; nothing is left half done.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPath } from '@hostnic/protocol';
import type { AddRequest } from '@hostnic/protocol';
import { AgentServer } from '../../src/api/index.ts';
import type { PodNics } from '../../src/pods/index.ts';
import { CONFIG, isRoot, nodeSnapshot, startPodHarness } from '../pods/helpers.ts';
import type { PodHarness } from '../pods/helpers.ts';
import { call } from './call.ts';

const IN_FLIGHT = 10;
const FINISHING = 5;

/** Resolves when `open` resolves; rejects when the ADD is aborted first (a NIC wait cut off by the stop). */
function holdUntil(open: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    signal?.addEventListener('abort', () => reject(new Error('aborted: hostnic-agent is stopping')), { once: true });
    void open.then(resolve);
  });
}

describe.skipIf(!isRoot)('AgentServer.drain: SIGTERM with ADDs in flight', () => {
  let h: PodHarness;
  let dir: string;

  beforeEach(async () => {
    h = await startPodHarness();
    dir = await mkdtemp(join(tmpdir(), 'hostnic-drain-'));
  });

  afterEach(async () => {
    try {
      await rm(dir, { recursive: true, force: true });
    } finally {
      await h.close();
    }
  });

  it(`${IN_FLIGHT} ADDs in flight: ${FINISHING} finish, the rest are aborted at the deadline and rolled back, new ADDs get 11`, async () => {
    // The vxnet's NIC exists, so every ADD below waits only where the test holds it.
    const warm = h.addRequest(await h.podNetns('warm'));
    await h.service.add(warm);
    await h.service.del({ attachment: warm.attachment, config: CONFIG, timeoutMs: 30_000 });

    const gates: (() => void)[] = [];
    let waiting = 0;
    let allWaiting = (): void => undefined;
    const everyoneWaits = new Promise<void>((resolve) => {
      allWaiting = resolve;
    });
    const nics: PodNics = {
      leaseNic: async (vxnet, signal) => {
        const open = new Promise<void>((resolve) => gates.push(resolve));
        if (++waiting === IN_FLIGHT) allWaiting();
        await holdUntil(open, signal);
        return h.nics.leaseNic(vxnet, signal);
      },
    };
    const server = new AgentServer({ socketPath: join(dir, 'hostnic.socket'), pods: h.serviceWith({ nics }), snapshot: () => h.store.snapshot() });
    await server.listen();
    server.setReady(true);
    try {
      const requests: AddRequest[] = [];
      for (let i = 0; i < IN_FLIGHT; i++) requests.push(h.addRequest(await h.podNetns(`roll-${i}`)));
      // The gates open in the order the ADDs asked for their NIC, which a loaded machine need not keep from the
      // order they were sent: the finishing ADDs are the first ones answered, whichever they are.
      const answeredFirst: number[] = [];
      let enoughAnswered = (): void => undefined;
      const finishingAnswered = new Promise<void>((resolve) => {
        enoughAnswered = resolve;
      });
      const answers = requests.map((r, i) =>
        call(server.socketPath, 'POST', AgentPath.add, r).then((answer) => {
          if (answeredFirst.push(i) === FINISHING) enoughAnswered();
          return answer;
        }),
      );
      await everyoneWaits;
      for (const open of gates.slice(0, FINISHING)) open();
      // The finishing ones are done before the deadline; the held ones are still waiting for their NIC.
      await finishingAnswered;
      const finishing = answeredFirst.slice(0, FINISHING);
      const finished = await Promise.all(answers.filter((_, i) => finishing.includes(i)));
      expect(finished.map((a) => a.status)).toEqual(Array(FINISHING).fill(200));

      const drained = server.drain(1);
      const refused = await call(server.socketPath, 'POST', AgentPath.add, h.addRequest(await h.podNetns('late')));
      expect(refused).toMatchObject({ status: 503, body: { code: 11 } });
      expect(await drained).toEqual({ inFlight: IN_FLIGHT - FINISHING, aborted: IN_FLIGHT - FINISHING });
      const aborted = await Promise.all(answers.filter((_, i) => !finishing.includes(i)));
      expect(aborted).toHaveLength(IN_FLIGHT - FINISHING);
      for (const a of aborted) expect(a).toMatchObject({ status: 503, body: { code: 11 } });

      // Kept: the finished ADDs, whole. Rolled back: everything of the aborted ones.
      const kept = requests.filter((_, i) => finishing.includes(i));
      expect((await h.store.listPods()).map((p) => p.containerId).sort()).toEqual(kept.map((r) => r.attachment.containerId).sort());
      expect(await h.ipamStore.listHandles()).toHaveLength(FINISHING);
      expect(h.store.snapshot().intents).toEqual([]);
      expect((await nodeSnapshot(h)).rules.filter((r) => r.priority === 1535)).toHaveLength(FINISHING);
      // DEL is still served while draining.
      for (const r of kept) {
        expect((await call(server.socketPath, 'POST', AgentPath.del, { attachment: r.attachment, config: CONFIG, timeoutMs: 30_000 })).status).toBe(200);
      }
      expect(await h.ipamStore.listHandles()).toEqual([]);
      const state = await nodeSnapshot(h);
      expect(state.links.filter((l) => l.name.startsWith('vnic'))).toEqual([]);
      expect(state.rules.filter((r) => r.priority === 1535)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
