/**
 * `down`: removes every trace of a sandbox, whether its processes are alive or were killed: the processes
 * (found by the state directory on their command lines, so nothing else is touched), the namespaces of its
 * prefix (their links go with them) and the state directory.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { sweepStale } from '@hostnic/sandbox/cluster';
import { until } from '../stack/index.ts';
import type { SandboxDirs } from './state.ts';

/** Pids of the live processes whose command line names `marker` (a path under the sandbox's directory). */
export async function processesNaming(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      if (argv.some((arg) => arg.includes(marker))) pids.push(pid);
    } catch {
      // Gone between readdir and read.
    }
  }
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function stopProcesses(dirs: SandboxDirs, supervisorPid: number | undefined): Promise<number> {
  // A live supervisor tears its stack down in order (controller first); give it the chance.
  if (supervisorPid !== undefined && (await processesNaming(dirs.root)).includes(supervisorPid)) {
    signal(supervisorPid, 'SIGTERM');
    await until('the sandbox supervisor to stop', 30_000, async () => ((await processesNaming(dirs.root)).includes(supervisorPid) ? undefined : true)).catch(() => undefined);
  }
  let killed = 0;
  await until(`the processes of sandbox ${dirs.name} to exit`, 15_000, async () => {
    const left = await processesNaming(dirs.root);
    for (const pid of left) signal(pid, 'SIGKILL');
    killed += left.length;
    return left.length === 0 ? true : undefined;
  });
  return killed;
}

export interface DownResult {
  readonly name: string;
  readonly processesKilled: number;
  readonly namespaces: readonly string[];
}

export async function down(dirs: SandboxDirs): Promise<DownResult> {
  let supervisorPid: number | undefined;
  try {
    supervisorPid = (JSON.parse(await readFile(dirs.stateFile, 'utf8')) as { supervisor?: { pid?: number } }).supervisor?.pid;
  } catch {
    // Never got as far as writing its state, or already down: the sweep below still runs.
  }
  const processesKilled = await stopProcesses(dirs, supervisorPid);
  const swept = await sweepStale(dirs.prefix, { baseDir: dirs.stackDir });
  await rm(dirs.root, { recursive: true, force: true });
  return { name: dirs.name, processesKilled, namespaces: swept.namespaces };
}
