/**
 * `hostnic-agent diags`: writes a support bundle (.tar.gz) of what a bug report about a node needs. Every
 * part is best effort: the ones that fail are recorded in the bundle as errors, so it is worth running on a
 * node whose agent is down.
 */

import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { bundleTarGz, collectBundle } from './diags/collect.ts';
import type { PartOutcome } from './diags/collect.ts';
import { diagsParts, kubeletAgentLogs } from './diags/parts.ts';

export interface DiagsCommandOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly socket: string;
  readonly qingcloudConfig: string;
  readonly effectiveConfig: () => Promise<unknown>;
  /** --output; default hostnic-diags-<node>-<time>.tar.gz in `cwd`. */
  readonly output: string | undefined;
  /** --log-file; default the agent's logs kubelet keeps on the node, when visible. */
  readonly logFiles: readonly string[];
  readonly socketTimeoutMs: number;
  readonly version: string;
}

/** The last 1 MiB of each log file. */
const LOG_TAIL_BYTES = 1024 * 1024;

export async function writeDiagsBundle(o: DiagsCommandOptions, now: Date = new Date()): Promise<{ file: string; outcomes: readonly PartOutcome[] }> {
  const node = o.env['MY_NODE_NAME'] ?? hostname();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = resolve(o.cwd, o.output ?? `hostnic-diags-${node}-${stamp}.tar.gz`);
  const logFiles = o.logFiles.length > 0 ? o.logFiles.map((f) => resolve(o.cwd, f)) : await kubeletAgentLogs();
  const parts = diagsParts({
    socket: o.socket,
    socketTimeoutMs: o.socketTimeoutMs,
    qingcloudConfig: o.qingcloudConfig,
    effectiveConfig: o.effectiveConfig,
    logFiles,
    logTailBytes: LOG_TAIL_BYTES,
    about: { agentVersion: o.version, nodejs: process.version, nodeName: node, created: now.toISOString() },
  });
  const bundle = await collectBundle(parts, now);
  // Node details (addresses, rules, config) are for the support case only.
  await writeFile(file, bundleTarGz(bundle, now), { mode: 0o600 });
  return { file, outcomes: bundle.outcomes };
}
