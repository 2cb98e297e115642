/**
 * The address of a VLAN vxnet's bridge br_N, by DHCP from the vxnet, as the original agent got it
 * (docs/dataplane.md#per-nic-setup). busybox's udhcpc does the protocol (it needs a raw socket on the bridge,
 * which Node cannot open); a script of ours reports the lease on stdout and changes nothing itself, so the
 * agent applies the address with the lease's lifetime and renews it at half the lease.
 *
 * @packageDocumentation
 */

import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { argvInNetns, CURRENT_NETNS, ensureAddress, run } from '@hostnic/netlink';
import type { Netns } from '@hostnic/netlink';

/** A lease as the DHCP server granted it. */
export interface DhcpLease {
  readonly address: string;
  readonly prefixLength: number;
  readonly router: string | undefined;
  readonly leaseSec: number;
  readonly server: string | undefined;
}

/** The DHCP exchange failed; names the interface and what udhcpc said. */
export class DhcpError extends Error {
  override name = 'DhcpError';
  readonly ifName: string;
  constructor(ifName: string, message: string) {
    super(`DHCP on ${ifName}: ${message}`);
    this.ifName = ifName;
  }
}

const MARK = 'HOSTNIC_DHCP_LEASE';

/** udhcpc calls it with the event as $1 and the lease in the environment; it only reports. */
export const DHCP_SCRIPT = `#!/bin/sh
# Written by hostnic-agent: reports a DHCP lease; the agent applies it.
case "$1" in
  bound|renew) printf '${MARK} ip=%s mask=%s router=%s lease=%s serverid=%s\\n' "$ip" "$mask" "$router" "$lease" "$serverid" ;;
esac
exit 0
`;

/** Writes the script (mode 0700) where udhcpc can run it. */
export async function installDhcpScript(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, DHCP_SCRIPT, { mode: 0o700 });
  await chmod(path, 0o700);
}

/** Reads the lease line of the script's output. */
export function parseLease(output: string): DhcpLease | undefined {
  const line = output.split('\n').reverse().find((l) => l.startsWith(`${MARK} `));
  if (!line) return undefined;
  const fields = new Map(line.slice(MARK.length + 1).split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)] as const;
  }));
  const address = fields.get('ip') ?? '';
  const prefixLength = Number(fields.get('mask'));
  const leaseSec = Number(fields.get('lease'));
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address) || !Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 32) return undefined;
  if (!Number.isInteger(leaseSec) || leaseSec <= 0) return undefined;
  // udhcpc lists every router option; the first is the vxnet's gateway.
  const router = fields.get('router')?.split(/\s+/)[0] || undefined;
  return { address, prefixLength, router, leaseSec, server: fields.get('serverid') || undefined };
}

export interface DhcpRequest {
  readonly ifName: string;
  readonly netns?: Netns | undefined;
  readonly scriptPath: string;
  /** Ask for this address again (a renewal). */
  readonly requestAddress?: string | undefined;
  /** Discover attempts, 2 s apart (default 5). */
  readonly attempts?: number | undefined;
  /** udhcpc's command (default `busybox udhcpc`). */
  readonly command?: readonly string[] | undefined;
}

/** One exchange: discover (or request) to bound, then udhcpc exits. */
export async function requestLease(req: DhcpRequest): Promise<DhcpLease> {
  const attempts = req.attempts ?? 5;
  const argv = [
    ...(req.command ?? ['busybox', 'udhcpc']), '-i', req.ifName, '-f', '-q', '-n', '-t', String(attempts), '-T', '2',
    '-s', req.scriptPath, ...(req.requestAddress ? ['-r', req.requestAddress] : []),
  ];
  const r = await run({ argv: argvInNetns(req.netns ?? CURRENT_NETNS, argv), timeoutMs: (attempts * 2 + 10) * 1000 });
  const lease = parseLease(r.stdout);
  if (r.code !== 0 || !lease) {
    throw new DhcpError(req.ifName, `no lease (udhcpc exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return lease;
}

/** Puts the leased address on the interface with the lease's lifetime, so it lapses if renewals stop. */
export async function applyLease(ifName: string, lease: DhcpLease, netns?: Netns): Promise<void> {
  await ensureAddress(
    { cidr: `${lease.address}/${lease.prefixLength}`, dev: ifName, validLft: lease.leaseSec, preferredLft: lease.leaseSec },
    { netns },
  );
}

/**
 * Gives a lease back (DHCPRELEASE), so the server can hand the address out at once. udhcpc only sends the
 * release from its bound state (`-q -R` quits before it is bound), so it runs in the foreground with `-R`
 * and is stopped with SIGTERM as soon as the script reports the lease. Bounded like {@link requestLease}.
 * @throws DhcpError when no lease was bound or udhcpc did not report the release
 */
export async function releaseLease(req: DhcpRequest & { readonly requestAddress: string }): Promise<void> {
  const attempts = req.attempts ?? 2;
  const argv = argvInNetns(req.netns ?? CURRENT_NETNS, [
    ...(req.command ?? ['busybox', 'udhcpc']), '-i', req.ifName, '-f', '-R', '-n', '-t', String(attempts), '-T', '2',
    '-s', req.scriptPath, '-r', req.requestAddress,
  ]);
  const [program, ...args] = argv;
  if (program === undefined) throw new DhcpError(req.ifName, 'empty udhcpc command');
  const output = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), (attempts * 2 + 10) * 1000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      if (parseLease(stdout) !== undefined) child.kill('SIGTERM');
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new DhcpError(req.ifName, `cannot run udhcpc: ${e.message}`));
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
  if (!/unicasting a release/.test(output.stderr)) {
    throw new DhcpError(req.ifName, `the release of ${req.requestAddress} was not sent: ${output.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}
