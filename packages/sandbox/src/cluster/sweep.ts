/**
 * Removes what a crashed run with a given prefix left behind: its namespaces (their links go with them)
 * and its directory. The demo uses a fixed prefix and calls this before starting.
 */

import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamedNetns, listNamedNetns } from '@hostnic/netlink';
import { sandboxNames } from './names.ts';
import { describeError, throwIfAny } from './teardown.ts';

export interface SweepOptions {
  /** Where the sandbox's directory was made. Default: the OS temporary directory. */
  readonly baseDir?: string | undefined;
}

export interface SweepResult {
  readonly namespaces: readonly string[];
  readonly directories: readonly string[];
}

/**
 * Deletes every named namespace called `<prefix>-...` and the directory `<baseDir>/<prefix>-sandbox`.
 * Tries everything, then throws SandboxCleanupError if something could not be removed.
 */
export async function sweepStale(prefix: string, options?: SweepOptions): Promise<SweepResult> {
  const names = sandboxNames(prefix);
  const errors: Error[] = [];
  const namespaces: string[] = [];
  const directories: string[] = [];
  // Nodes and pods first, the vpc last: the reverse of the order a run makes them in.
  const stale = (await listNamedNetns())
    .filter((n) => n.startsWith(names.stem))
    .sort((a, b) => Number(a === names.vpcNetns) - Number(b === names.vpcNetns));
  for (const name of stale) {
    try {
      await deleteNamedNetns(name);
      namespaces.push(name);
    } catch (err) {
      errors.push(new Error(`sweep: delete netns ${name}: ${describeError(err)}`, { cause: err }));
    }
  }
  const directory = join(options?.baseDir ?? tmpdir(), names.directory);
  try {
    if (await exists(directory)) {
      await rm(directory, { recursive: true, force: true });
      directories.push(directory);
    }
  } catch (err) {
    errors.push(new Error(`sweep: remove ${directory}: ${describeError(err)}`, { cause: err }));
  }
  throwIfAny(errors, `sweeping sandbox prefix ${prefix} left things behind`);
  return { namespaces, directories };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
