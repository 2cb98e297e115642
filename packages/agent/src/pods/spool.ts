/**
 * Replay of the plugin's release spool: releases the plugin could not deliver while the agent was down,
 * one `<containerId>_<ifName>.json` file each (protocol SpooledRelease).
 */

import { mkdir, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtocolSkewError, decodeSpooledRelease } from '@hostnic/protocol';
import type { Attachment, CniResult, PluginConfig, SpooledRelease } from '@hostnic/protocol';
import { noFailpoint } from '../failpoints.ts';
import type { Failpoint } from '../failpoints.ts';
import { messageOf } from './errors.ts';
import type { PodService } from './service.ts';
import { byCodeUnits } from '../order.ts';

export interface SpoolReplayResult {
  /** Files whose release was done (and that were deleted). */
  released: string[];
  /** Files that are not a SpooledRelease, moved to `<dir>/bad/`. */
  bad: { file: string; reason: string }[];
  /** Files whose release failed, or of a protocol version this agent does not read; kept for the next replay. */
  failed: { file: string; reason: string }[];
}

/** Used for the host veth name when DEL has no record (the plugin's defaults). */
export const SPOOL_DEFAULT_CONFIG: PluginConfig = {
  cniVersion: '1.0.0',
  name: 'hostnic',
  vethPrefix: 'vnic',
  mtu: 1500,
  serviceCIDR: undefined,
  natMark: '0x10000/0x10000',
  interface: 'eth0',
  hairpin: false,
};

/** Spooled DELs replayed at the same time. */
const REPLAY_CONCURRENCY = 8;

export interface SpoolReplayOptions {
  /** Used when DEL has no record (default SPOOL_DEFAULT_CONFIG). */
  readonly config?: PluginConfig;
  /** Crash tests: reached after a release is done and before its file is deleted. */
  readonly failpoint?: Failpoint;
}

/**
 * Performs the DEL of every spooled release; a missing directory is an empty spool. A file is deleted only after
 * its DEL succeeded, so a crash in between replays it again, and DEL of what is gone already succeeds.
 */
export async function replaySpool(dir: string, pods: Pick<PodService, 'del'>, options: SpoolReplayOptions = {}): Promise<SpoolReplayResult> {
  const config = options.config ?? SPOOL_DEFAULT_CONFIG;
  const failpoint = options.failpoint ?? noFailpoint;
  const out: SpoolReplayResult = { released: [], bad: [], failed: [] };
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  const replayOne = async (name: string): Promise<void> => {
    const path = join(dir, name);
    let release: SpooledRelease;
    try {
      release = decodeSpooledRelease(await readFile(path, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // replayed by a concurrent run
      const reason = messageOf(e);
      // Written by a newer plugin mid-rollout (or before a rollback): kept for an agent that reads it.
      if (e instanceof ProtocolSkewError) {
        out.failed.push({ file: name, reason });
        return;
      }
      await mkdir(join(dir, 'bad'), { recursive: true, mode: 0o700 });
      await rename(path, join(dir, 'bad', name)).catch(() => undefined);
      out.bad.push({ file: name, reason });
      return;
    }
    const attachment: Attachment = { ...release.attachment };
    if (attachment.infraContainerId === '') attachment.infraContainerId = attachment.containerId;
    const prevResult: CniResult | undefined =
      release.ip === undefined ? undefined : { interfaces: [], ips: [{ address: `${release.ip}/32` }], dns: {} };
    try {
      await pods.del(prevResult ? { attachment, config, prevResult, timeoutMs: 0 } : { attachment, config, timeoutMs: 0 });
      await failpoint('spool:released');
      await unlink(path).catch(() => undefined);
      out.released.push(name);
    } catch (e) {
      out.failed.push({ file: name, reason: messageOf(e) });
    }
  };
  // Each file is one pod's DEL under its own lock: replayed several at a time, so that a restart after a long
  // outage (many DELs spooled) is not held back by their sum; the lists are sorted for a stable report.
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let name = names[next++]; name !== undefined; name = names[next++]) await replayOne(name);
  };
  await Promise.all(Array.from({ length: Math.min(REPLAY_CONCURRENCY, names.length) }, worker));
  out.released.sort();
  out.bad.sort((a, b) => byCodeUnits(a.file, b.file));
  out.failed.sort((a, b) => byCodeUnits(a.file, b.file));
  return out;
}
