/**
 * Whether CNI_NETNS is a live network namespace, answered by statfs(2) without spawning anything. ADD checks
 * it before the agent allocates an address for a sandbox that is already gone.
 */

// Synchronous on purpose: an async fs call starts libuv's thread pool (four threads), which an ADD needs for
// nothing else; statfs(2) on a local path does not block for long. node:fs rather than node:fs/promises: the
// latter drags readline into every ADD's start-up.
import { statSync, statfsSync } from 'node:fs';

/** statfs(2) magic of nsfs, where namespace files live. */
const NSFS_MAGIC = 0x6e736673;
/** Before Linux 3.19 namespace files were on procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

export function isLiveNetns(path: string): boolean {
  const type = fsType(path);
  if (type === NSFS_MAGIC) return true;
  if (type !== PROC_SUPER_MAGIC || !/\/ns\/net$/.test(path)) return false;
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}
