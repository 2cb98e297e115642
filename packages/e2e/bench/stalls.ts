/**
 * The agent bench's optional attribution of event-loop stalls (`HOSTNIC_BENCH_STALLS=1`): loads stall-probe.ts
 * into the processes the stack starts, and after the rounds asks the agent for its profile and gaps and
 * says what the loop was doing during the gaps of the rounds.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuProfile, Gap } from './stall-causes.ts';
import { formatStalls, stallCauses } from './stall-causes.ts';

/** How long the agent may take to write its profile after SIGUSR2. */
const DUMP_WAIT_MS = 20_000;

/** CLOCK_MONOTONIC now, in microseconds: the probe's and the profile's clock. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * When HOSTNIC_BENCH_STALLS=1: a directory for the probe's files, with the probe added to NODE_OPTIONS of
 * this process's environment (call it before the stack starts the agent); otherwise undefined.
 */
export function enableStallProbe(): string | undefined {
  if (process.env['HOSTNIC_BENCH_STALLS'] !== '1') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hostnic-stall-probe-'));
  const probe = fileURLToPath(new URL('./stall-probe.ts', import.meta.url));
  process.env['HOSTNIC_STALL_PROBE_DIR'] = dir;
  process.env['NODE_OPTIONS'] = [process.env['NODE_OPTIONS'], `--import=${probe}`].filter((o) => o !== undefined && o !== '').join(' ');
  return dir;
}

/**
 * Asks the agent (SIGUSR2) for its profile and gaps, waits until the gaps file is there, and formats the causes
 * of the gaps in `window`.
 * @throws Error when the agent wrote nothing in time (was the probe loaded? NODE_OPTIONS may not allow it)
 */
export async function agentStalls(pid: number, dir: string, window: { readonly from: number; readonly to: number }): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  const gapsFile = join(dir, `agent-${pid}.gaps.json`);
  const deadline = Date.now() + DUMP_WAIT_MS;
  while (!existsSync(gapsFile)) {
    if (Date.now() > deadline) throw new Error(`the agent (pid ${pid}) wrote no ${gapsFile} within ${DUMP_WAIT_MS} ms of SIGUSR2`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const profile = JSON.parse(await readFile(join(dir, `agent-${pid}.cpuprofile`), 'utf8')) as CpuProfile;
  const gaps = JSON.parse(await readFile(gapsFile, 'utf8')) as Gap[];
  return formatStalls(stallCauses(profile, gaps, window));
}
