/**
 * Atomic, idempotent file replacement. Kubelet may exec the plugin or read the CNI config at any moment, so a
 * file is written under a temporary name in the same directory, fsynced, and renamed over the old one: a
 * reader sees the old file or the new one, never half of one, and a running executable is not disturbed
 * (rename replaces the directory entry; writing into a running binary would fail with ETXTBSY).
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors.ts';

export type WriteOutcome = 'created' | 'replaced' | 'unchanged' | 'mode-fixed';

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Makes the rename itself durable: without it a crash can bring back the old directory entry. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function currentMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o7777;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    const fh = await open(file, 'r');
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function finish(tmp: string, target: string): Promise<void> {
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Writes `content` to `target` unless it already holds exactly that; fixes only the mode when that differs. */
export async function writeFileAtomic(target: string, content: Buffer | string, mode: number): Promise<WriteOutcome> {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  const existing = await readIfExists(target);
  if (existing !== undefined && existing.equals(data)) {
    if ((await currentMode(target)) === mode) return 'unchanged';
    await chmod(target, mode);
    return 'mode-fixed';
  }
  const tmp = tempName(target);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    // The umask may have cut the mode given to open.
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await finish(tmp, target);
  return existing === undefined ? 'created' : 'replaced';
}

const CHUNK = 1 << 20;

/** Byte comparison in chunks: the Node runtime is ~100 MB and need not sit in memory twice. */
export async function sameContent(a: string, b: string): Promise<boolean> {
  let sa, sb;
  try {
    [sa, sb] = await Promise.all([stat(a), stat(b)]);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let pos = 0; pos < sa.size; pos += CHUNK) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, CHUNK, pos), fb.read(bb, 0, CHUNK, pos)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      if (ra.bytesRead === 0) break;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Copies `source` to `target` unless identical; same atomicity as writeFileAtomic. */
export async function copyFileAtomic(source: string, target: string, mode: number): Promise<WriteOutcome> {
  const existed = (await currentMode(target)) !== undefined;
  if (existed && (await sameContent(source, target))) {
    if ((await currentMode(target)) === mode) return 'unchanged';
    await chmod(target, mode);
    return 'mode-fixed';
  }
  const tmp = tempName(target);
  try {
    await copyFile(source, tmp, constants.COPYFILE_EXCL);
    const fh = await open(tmp, 'r+');
    try {
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await finish(tmp, target);
  return existed ? 'replaced' : 'created';
}
