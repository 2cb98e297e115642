import { mkdir, readdir, writeFile } from 'node:fs/promises';
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
