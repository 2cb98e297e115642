/**
 * What the support bundle holds, part by part: the running agent's own view over its socket, the node's
 * kernel state (as `ip`, iptables-save and ebtables print it), the sysctls the dataplane depends on, the
 * recent agent log, and the effective configuration with the secret key redacted.
 */

import { execFile } from 'node:child_process';
import { open, readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { agentGet, describeFailure } from '../cli-inspect.ts';
import type { DiagsPart } from './collect.ts';

export class DiagsCommandError extends Error {
  override name = 'DiagsCommandError';
}

/** Runs a program; its stdout, or an error carrying its exit status and stderr. */
export function commandOutput(argv: readonly string[], timeoutMs = 15_000): Promise<string> {
  const [program, ...args] = argv;
  if (program === undefined) throw new DiagsCommandError('empty command line');
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      const why = typeof err.code === 'string' ? err.code : `exit status ${err.code ?? err.signal ?? '?'}`;
      reject(new DiagsCommandError(`${argv.join(' ')} failed (${why}): ${stderr.trim() || err.message}`));
    });
  });
}

/** The node's network state, one command a file. */
export const KERNEL_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  'kernel/links.txt': ['ip', '-d', 'link', 'show'],
  'kernel/addresses.txt': ['ip', 'address', 'show'],
  'kernel/routes.txt': ['ip', 'route', 'show', 'table', 'all'],
  'kernel/rules.txt': ['ip', 'rule', 'show'],
  'kernel/neighbours.txt': ['ip', 'neigh', 'show'],
  // The pods' ARP answers: proxy entries, which `ip neigh show` leaves out.
  'kernel/proxy-neighbours.txt': ['ip', 'neigh', 'show', 'proxy'],
  'kernel/iptables-save.txt': ['iptables-save'],
  'kernel/ebtables-nat.txt': ['ebtables', '-t', 'nat', '-L'],
};

/** Sysctls read for the whole node; per-interface ones are read for every interface under conf/. */
const NODE_SYSCTLS = ['net/ipv4/ip_forward', 'net/ipv4/conf/all/rp_filter', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-arptables'];
const INTERFACE_SYSCTLS = ['rp_filter', 'proxy_arp', 'forwarding', 'arp_ignore', 'arp_announce'];

/** `key = value` lines; a key that cannot be read says why on its line (a bridge module not loaded, say). */
export async function readSysctls(procSys = '/proc/sys'): Promise<string> {
  const keys = [...NODE_SYSCTLS];
  for (const dev of (await readdir(join(procSys, 'net/ipv4/conf'))).sort()) {
    for (const k of INTERFACE_SYSCTLS) keys.push(`net/ipv4/conf/${dev}/${k}`);
  }
  const lines = await Promise.all(
    keys.map(async (k) => {
      const name = k.replaceAll('/', '.');
      try {
        return `${name} = ${(await readFile(join(procSys, k), 'utf8')).trim()}`;
      } catch (e) {
        return `${name}: unreadable (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
      }
    }),
  );
  return `${lines.join('\n')}\n`;
}

/** The last `maxBytes` of a file (a log can be large; the end is what a report needs). */
export async function fileTail(file: string, maxBytes: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    return buf;
  } finally {
    await fh.close();
  }
}

/** config.yaml with the value of `qy_secret_access_key` replaced, whatever its quoting. */
export function redactQingcloudConfig(text: string): string {
  return text.replace(/^(\s*qy_secret_access_key\s*:).*$/gm, "$1 '<redacted>'");
}

export interface DiagsSources {
  readonly socket: string;
  readonly socketTimeoutMs: number;
  /** The QingCloud config file (its secret is redacted in the bundle). */
  readonly qingcloudConfig: string;
  /** The effective configuration as `hostnic-agent run` prints it (no keys in it). */
  readonly effectiveConfig: () => Promise<unknown>;
  /** Agent log files whose tails go into logs/. */
  readonly logFiles: readonly string[];
  readonly logTailBytes: number;
  /** Facts about the bundle itself: versions, node, time. */
  readonly about: Readonly<Record<string, unknown>>;
}

const INSPECTED = ['status', 'pods', 'nics', 'pools'] as const;

export function diagsParts(s: DiagsSources): DiagsPart[] {
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  const parts: DiagsPart[] = [{ name: 'about.json', collect: () => Promise.resolve(json(s.about)) }];
  for (const kind of INSPECTED) {
    parts.push({
      name: `agent/${kind}.json`,
      collect: async () => {
        const answer = await agentGet(s.socket, `/v1/${kind}`, s.socketTimeoutMs);
        // /v1/status answers 503 while not ready: that answer is the point of asking.
        if (answer.status !== 200 && !(kind === 'status' && answer.status === 503)) {
          throw new DiagsCommandError(`GET /v1/${kind} answered ${answer.status}: ${describeFailure(answer)}`);
        }
        return json(answer.body);
      },
    });
  }
  for (const [name, argv] of Object.entries(KERNEL_COMMANDS)) parts.push({ name, collect: () => commandOutput(argv) });
  parts.push({ name: 'kernel/sysctls.txt', collect: () => readSysctls() });
  parts.push({ name: 'config/effective.json', collect: async () => json(await s.effectiveConfig()) });
  parts.push({ name: 'config/qingcloud-config.yaml', collect: async () => redactQingcloudConfig(await readFile(s.qingcloudConfig, 'utf8')) });
  s.logFiles.forEach((file, i) => {
    parts.push({ name: `logs/${i}-${basename(file)}`.slice(0, 100), collect: () => fileTail(file, s.logTailBytes) });
  });
  if (s.logFiles.length === 0) {
    parts.push({
      name: 'logs/agent.log',
      collect: () =>
        Promise.reject(
          new DiagsCommandError(
            `no --log-file given and no hostnic-agent log under ${KUBELET_POD_LOGS}; ` +
              '`kubectl logs -n kube-system <hostnic-node pod> -c hostnic-agent` shows it',
          ),
        ),
    });
  }
  return parts;
}

/** Where kubelet keeps container logs: <namespace>_<pod>_<uid>/<container>/<restart>.log. */
export const KUBELET_POD_LOGS = '/var/log/pods';

/** The hostnic-agent container logs of the hostnic-node pods kubelet keeps under `dir` (none when absent). */
export async function kubeletAgentLogs(dir = KUBELET_POD_LOGS): Promise<string[]> {
  const found: string[] = [];
  const pods = await readdir(dir).catch(() => []);
  for (const pod of pods.filter((p) => p.startsWith('kube-system_hostnic-node-')).sort()) {
    const container = join(dir, pod, 'hostnic-agent');
    const logs = await readdir(container).catch(() => []);
    for (const f of logs.filter((l) => l.endsWith('.log')).sort()) found.push(join(container, f));
  }
  return found;
}
