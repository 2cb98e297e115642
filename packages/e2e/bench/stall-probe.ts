/**
 * A preload (`node --import`) that lets the agent bench say what stalls the agent's event loop: in a process
 * that runs `hostnic-agent run` with HOSTNIC_STALL_PROBE_DIR set, it starts V8's sampling profiler and a 1 ms
 * timer that notes every turn of the loop that came late (a gap), and on SIGUSR2 writes both to that directory
 * (`agent-<pid>.cpuprofile`, then `agent-<pid>.gaps.json`). Any other process that loads it is left alone.
 * Timestamps are CLOCK_MONOTONIC microseconds, the clock of V8's profile and of `process.hrtime` in every
 * process of the machine, so the bench can cut out its own measured window. The profiler costs CPU: figures
 * taken with the probe are for attribution, not for the table.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { Profiler } from 'node:inspector';
import { join } from 'node:path';
import { STALL_GAP_US } from './stall-causes.ts';

const SAMPLE_INTERVAL_US = 250;

const dir = process.env['HOSTNIC_STALL_PROBE_DIR'];
const isAgentRun = /hostnic-agent(\.mjs)?$|agent\/src\/cli\.ts$/.test(process.argv[1] ?? '') && process.argv.includes('run');

if (dir !== undefined && dir !== '' && isAgentRun) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: SAMPLE_INTERVAL_US });
  session.post('Profiler.start');
  const now = (): number => Number(process.hrtime.bigint() / 1000n);
  const gaps: [number, number][] = [];
  let last = now();
  setInterval(() => {
    const t = now();
    if (t - last > STALL_GAP_US) gaps.push([last, t]);
    last = t;
  }, 1).unref();
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop', (error, result: Profiler.StopReturnType) => {
      if (error !== null) return;
      // The gaps last and each file renamed into place: whoever sees the gaps file can read both whole.
      const write = (name: string, data: unknown): void => {
        writeFileSync(join(dir, `.${name}`), JSON.stringify(data));
        renameSync(join(dir, `.${name}`), join(dir, name));
      };
      write(`agent-${process.pid}.cpuprofile`, result.profile);
      write(`agent-${process.pid}.gaps.json`, gaps);
    });
  });
}
