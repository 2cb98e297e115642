/**
 * The release spool: when DEL cannot reach the agent, the release is written to a file that the agent
 * replays at start and on a timer. One file per attachment, written atomically (temp file, fsync, rename,
 * fsync of the directory), so the agent never reads half a file and a node crash right after DEL does not
 * lose the release.
 */

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Attachment } from '@hostnic/protocol';
import { decodeSpooledRelease, encodeSpooledRelease, newSpooledRelease, spoolFileName } from '@hostnic/protocol';

async function previousIp(path: string): Promise<string | undefined> {
  try {
    return decodeSpooledRelease(await readFile(path, 'utf8')).ip;
  } catch {
    // no earlier release, or an unreadable one: this one replaces it
    return undefined;
  }
}

/** Writes the release and returns the file's path. A repeated DEL rewrites it, keeping a known IP. */
export async function spoolRelease(dir: string, attachment: Attachment, ip: string | undefined, now = new Date()): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = spoolFileName(attachment);
  const path = join(dir, name);
  const release = newSpooledRelease(attachment, ip ?? (await previousIp(path)), now);
  // Dot-prefixed and not ending in .json: the agent's replay never picks up a half-written file.
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(encodeSpooledRelease(release));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return path;
}
