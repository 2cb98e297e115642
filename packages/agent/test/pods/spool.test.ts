import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@hostnic/protocol';
import type { SpooledRelease } from '@hostnic/protocol';
import { replaySpool } from '../../src/pods/index.ts';
import { arpReplyIps, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

describe.skipIf(!isRoot)('spool replay', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('releases a spooled attachment, deletes its file and moves a bad file aside', async () => {
    const pod = await h.podNetns('spooled');
    const request = h.addRequest(pod);
    const { result } = await h.service.add(request);
    const ip = (result.ips[0]?.address ?? '').replace('/32', '');
    const record = await h.store.getPod(request.attachment.containerId, 'eth0');

    const spool = join(h.dir, 'spool');
    await mkdir(spool);
    const release: SpooledRelease = { version: 1, attachment: { ...request.attachment, netns: '' }, ip, spooledAt: new Date().toISOString() };
    await writeFile(join(spool, `${request.attachment.containerId}_eth0.json`), JSON.stringify(release));
    await writeFile(join(spool, 'broken_eth0.json'), '{"version":1');
    // Written by a plugin two protocol versions ahead (mid-rollout): kept for an agent that reads it.
    await writeFile(join(spool, 'future_eth0.json'), JSON.stringify({ ...release, version: PROTOCOL_VERSION + 2 }));

    const out = await replaySpool(spool, h.service);
    expect(out.released).toEqual([`${request.attachment.containerId}_eth0.json`]);
    expect(out.bad).toEqual([expect.objectContaining({ file: 'broken_eth0.json' })]);
    expect(out.failed).toEqual([{ file: 'future_eth0.json', reason: `plugin ${PROTOCOL_VERSION + 2}, agent ${PROTOCOL_VERSION}: finish the rollout` }]);
    expect((await readdir(spool)).sort()).toEqual(['bad', 'future_eth0.json']);
    expect(await readdir(join(spool, 'bad'))).toEqual(['broken_eth0.json']);

    expect(await h.store.listPods()).toEqual([]);
    expect(await h.ipam.addressesOf(record?.handleId ?? '')).toEqual([]);
    expect(await arpReplyIps(h)).toEqual([]);
    const state = await nodeSnapshot(h);
    expect(state.rules.filter((r) => r.priority === 1535)).toEqual([]);
    expect(state.links.find((l) => l.name === record?.hostVeth)).toBeUndefined();

    expect(await replaySpool(join(h.dir, 'nowhere'), h.service)).toEqual({ released: [], bad: [], failed: [] });
  });
});

describe('spool replay of many DELs (after a long outage)', () => {
  it('replays them several at a time, each once', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'hostnic-spool-many-'));
    try {
      for (let i = 0; i < 20; i++) {
        const attachment = { containerId: `c${String(i).padStart(2, '0')}`, ifName: 'eth0', netns: '', podNamespace: 'default', podName: `p${i}`, infraContainerId: '', kubernetesPod: true };
        const release: SpooledRelease = { version: 1, attachment, ip: `10.0.0.${i + 1}`, spooledAt: new Date().toISOString() };
        await writeFile(join(spool, `${attachment.containerId}_eth0.json`), JSON.stringify(release));
      }
      let running = 0;
      let most = 0;
      const deleted: string[] = [];
      const gates: (() => void)[] = [];
      const pods = {
        del: async (r: Parameters<Parameters<typeof replaySpool>[1]['del']>[0]): Promise<void> => {
          running++;
          most = Math.max(most, running);
          // Held until the test lets the DELs in flight go: shows how many run at once.
          await new Promise<void>((resolve) => gates.push(resolve));
          deleted.push(r.attachment.containerId);
          running--;
        },
      };
      const replay = replaySpool(spool, pods);
      while (deleted.length < 20) {
        await new Promise((r) => setImmediate(r));
        // Let them go once as many are in flight as can be (all 8 workers, fewer at the tail).
        if (running === Math.min(8, 20 - deleted.length)) for (const open of gates.splice(0)) open();
      }
      const out = await replay;
      expect(most).toBe(8);
      expect(deleted.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`));
      expect(out.released).toHaveLength(20);
      expect(out.released[0]).toBe('c00_eth0.json');
      expect(await readdir(spool)).toEqual([]);
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  });
});
