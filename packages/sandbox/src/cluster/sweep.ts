/**
 * Removes what a crashed run with a given prefix left behind: its namespaces (their links go with them)
 * and its directory. The demo uses a fixed prefix and calls this before starting.
 */

import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamedNetns, listNamedNetns, run } from '@hostnic/netlink';
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
      // A killed run's processes (agents, dnsmasq) outlive it in its namespaces; deleting a namespace would
      // only unname it while they keep running.
      await killProcessesIn(name);
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

/** SIGKILLs every process whose network namespace is the named one. */
export async function killProcessesIn(netnsName: string): Promise<number[]> {
  const r = await run({ argv: ['ip', 'netns', 'pids', netnsName], timeoutMs: 10_000 });
  if (r.code !== 0) return [];
  const pids = r.stdout.split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number).filter((pid) => pid !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return pids;
}

const OWNER_FILE = 'owner.json';
const DIRECTORY_SUFFIX = '-sandbox';

/** Records this process as the sandbox's owner. */
export async function writeOwner(directory: string): Promise<void> {
  await writeFile(join(directory, OWNER_FILE), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as { code?: unknown }).code === 'EPERM';
  }
}

async function ownerOf(directory: string): Promise<number | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(directory, OWNER_FILE), 'utf8')) as { pid?: unknown };
    return typeof owner.pid === 'number' && Number.isInteger(owner.pid) && owner.pid > 0 ? owner.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sweeps every sandbox whose owning process is gone (killed before its teardown could run), leaving sandboxes
 * of live processes alone, so that concurrent runs are safe. Sandboxes without an owner record are left too.
 * @returns the prefixes swept
 */
export async function sweepOrphans(options?: SweepOptions): Promise<string[]> {
  const base = options?.baseDir ?? tmpdir();
  const swept: string[] = [];
  for (const entry of await readdir(base)) {
    if (!entry.endsWith(DIRECTORY_SUFFIX)) continue;
    const prefix = entry.slice(0, -DIRECTORY_SUFFIX.length);
    const pid = await ownerOf(join(base, entry));
    if (pid === undefined || isAlive(pid)) continue;
    try {
      await sweepStale(prefix, options);
      swept.push(prefix);
    } catch {
      // An invalid prefix or a namespace that would not go: the next run tries again.
    }
  }
  return swept;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
