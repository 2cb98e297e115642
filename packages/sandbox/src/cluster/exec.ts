/**
 * Running commands inside the sandbox's namespaces, and the bounded ping that tests ask "is it reachable"
 * with.
 */

import type { ExecResult, Netns } from '@hostnic/netlink';
import { TimeoutError, argvInNetns, run } from '@hostnic/netlink';
import { parseIpv4 } from './ipv4.ts';
import { requireOwnNetns } from './owned-netns.ts';
import type { ExecInNamespaceOptions, PingOptions } from './types.ts';

/** Default deadline of a command: long enough for a loaded machine, short enough for a test to report. */
const EXEC_TIMEOUT_MS = 20_000;

export function execInNetns(ns: Netns, argv: readonly string[], options?: ExecInNamespaceOptions): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new Error('exec: empty argv'));
  return run({
    argv: argvInNetns(requireOwnNetns(ns), argv),
    input: options?.input,
    timeoutMs: options?.timeoutMs ?? EXEC_TIMEOUT_MS,
  });
}

/** How long one `ping -c1 -W1` may take before it counts as unanswered (its process start on a loaded machine). */
const PING_PROCESS_TIMEOUT_MS = 5_000;

/**
 * Whether `ip` answers within one second per attempt. An attempt whose process does not even finish in time (a
 * machine too loaded to run it) counts as unanswered, as the caller asked a bounded question.
 */
export async function pingFromNetns(ns: Netns, ip: string, options?: PingOptions): Promise<boolean> {
  // Checked, not just passed on: a value starting with "-" would be read as an option by ping.
  if (parseIpv4(ip) === undefined) throw new Error(`ping: "${ip}" is not an IPv4 address`);
  const attempts = Math.max(1, options?.attempts ?? 1);
  for (let i = 0; i < attempts; i++) {
    try {
      const result = await execInNetns(ns, ['ping', '-n', '-q', '-c1', '-W1', ip], { timeoutMs: options?.processTimeoutMs ?? PING_PROCESS_TIMEOUT_MS });
      if (result.code === 0) return true;
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
  }
  return false;
}
