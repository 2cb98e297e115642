import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment } from '@hostnic/protocol';
import { spoolFileName } from '@hostnic/protocol';
import { spoolRelease } from '../src/spool.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hn-spool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const attachment: Attachment = {
  containerId: 'abc123',
  netns: '/var/run/netns/cni-1',
  ifName: 'eth0',
  podNamespace: 'default',
  podName: 'nginx',
  infraContainerId: 'abc123',
  kubernetesPod: true,
};

describe('spool', () => {
  it('writes one JSON file per attachment, leaving no temp file', async () => {
    const spool = join(dir, 'a', 'spool');
    const path = await spoolRelease(spool, attachment, '172.22.0.239', new Date('2030-01-02T03:04:05Z'));
    expect(path).toBe(join(spool, spoolFileName(attachment)));
    expect(await readdir(spool)).toEqual(['abc123_eth0.json']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 2,
      attachment,
      spooledAt: '2030-01-02T03:04:05.000Z',
      ip: '172.22.0.239',
    });
  });

  it('keeps a known IP when a repeated DEL no longer knows it', async () => {
    const spool = join(dir, 'b');
    await spoolRelease(spool, attachment, '172.22.0.239');
    const path = await spoolRelease(spool, attachment, undefined);
    expect(JSON.parse(await readFile(path, 'utf8')).ip).toBe('172.22.0.239');
  });
});
