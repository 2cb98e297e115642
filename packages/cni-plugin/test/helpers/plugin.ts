/** Runs the bundled plugin as a runtime does: its own environment, config on stdin, a child process. */

import { fileURLToPath } from 'node:url';
import type { Ran } from './sh.ts';
import { inNetns, run } from './sh.ts';

/** Installed by the global setup with scripts/install.sh, beside a link to this Node. */
export const PLUGIN_BIN_DIR = fileURLToPath(new URL('../../dist/test-bin', import.meta.url));
export const PLUGIN = `${PLUGIN_BIN_DIR}/hostnic`;

/** The PATH a runtime typically gives plugins. */
export const RUNTIME_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CniCall {
  command?: string;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  path?: string;
  /** Extra or overriding variables; undefined removes one. */
  env?: Record<string, string | undefined>;
  config?: unknown;
  /** Raw stdin; wins over `config`. */
  stdin?: string;
  stdinFd?: number;
  /** Run inside this named network namespace (the node). */
  nodeNetns?: string;
  timeoutMs?: number;
}

export function cniEnv(call: CniCall): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: RUNTIME_PATH,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_ARGS: call.args,
    CNI_PATH: call.path ?? PLUGIN_BIN_DIR,
    ...call.env,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function runPlugin(call: CniCall): Promise<Ran> {
  const argv = call.nodeNetns ? inNetns(call.nodeNetns, [PLUGIN]) : [PLUGIN];
  const stdin = call.stdin ?? (call.config === undefined ? '' : JSON.stringify(call.config));
  return run(argv, { env: cniEnv(call), stdin, stdinFd: call.stdinFd, timeoutMs: call.timeoutMs ?? 60_000 });
}

/** The parsed JSON of stdout, failing with the whole output when it is not JSON. */
export function json(r: Ran): Record<string, unknown> {
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
