/**
 * Whether CNI_NETNS is a live network namespace, answered by statfs(2) without spawning anything. ADD checks
 * it before the agent allocates an address for a sandbox that is already gone.
 */

// node:fs rather than node:fs/promises: the latter drags readline into every ADD's start-up.
import { statSync, statfs } from 'node:fs';

/** statfs(2) magic of nsfs, where namespace files live. */
const NSFS_MAGIC = 0x6e736673;
/** Before Linux 3.19 namespace files were on procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;

function fsType(path: string): Promise<number | undefined> {
  return new Promise((resolve) => statfs(path, (err, s) => resolve(err ? undefined : s.type)));
}

export async function isLiveNetns(path: string): Promise<boolean> {
  const type = await fsType(path);
  if (type === NSFS_MAGIC) return true;
  if (type !== PROC_SUPER_MAGIC || !/\/ns\/net$/.test(path)) return false;
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}
