/**
 * Network sysctls, per interface and global.
 *
 * /proc/sys/net shows the namespace of the process that opens it, so the current namespace is read and
 * written as plain files (no process), and another namespace through one `nsenter ... sh` process that
 * takes the paths and values as positional parameters.
 *
 * @packageDocumentation
 */

import { readFile, writeFile } from 'node:fs/promises';
import type { Prelude } from './batch.ts';
import { PRELUDE_MARKER, parseBatchStderr } from './batch.ts';
import { CommandError, InvalidArgumentError, commandErrorFor, errnoOf } from './errors.ts';
import type { ExecOptions } from './exec.ts';
import { run } from './exec.ts';
import { validateIfName } from './names.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS, argvInNetns, describeNetns, nsenterFailure } from './netns.ts';

/** The per-interface settings hostnic touches. */
export type ConfSetting = 'forwarding' | 'rp_filter' | 'proxy_arp' | 'arp_ignore' | 'accept_local' | 'accept_ra';

/** One value to write. */
export interface SysctlEntry {
  /** Absolute path under /proc/sys/net/. */
  readonly path: string;
  readonly value: string;
  /** A missing file is fine (e.g. IPv6 disabled on the node). */
  readonly optional?: boolean | undefined;
}

const V4_ONLY: readonly ConfSetting[] = ['rp_filter', 'proxy_arp', 'arp_ignore', 'accept_local'];

/**
 * `net.ipv<family>.conf.<iface>.<setting>` as an entry. `iface` may be `all` or `default`. accept_ra is
 * IPv6-only and marked optional, because nodes may run with IPv6 disabled.
 */
export function confSysctl(family: 4 | 6, iface: string, setting: ConfSetting, value: string | number): SysctlEntry {
  if (iface !== 'all' && iface !== 'default') validateIfName(iface);
  if (family === 6 && V4_ONLY.includes(setting)) throw new InvalidArgumentError('sysctl', setting, 'is IPv4-only');
  if (family === 4 && setting === 'accept_ra') throw new InvalidArgumentError('sysctl', setting, 'is IPv6-only');
  return {
    path: `/proc/sys/net/ipv${family}/conf/${iface}/${setting}`,
    value: String(value),
    optional: family === 6 ? true : undefined,
  };
}

/**
 * `net.ipv4.neigh.<iface>.proxy_delay`: how long the kernel holds a broadcast ARP request before a proxy
 * neighbour answers it (default 80 ticks, a random share of 0.8 s); 0 answers at once, as an ebtables
 * arpreply did.
 */
export function proxyDelaySysctl(iface: string, value: number = 0): SysctlEntry {
  validateIfName(iface);
  return { path: `/proc/sys/net/ipv4/neigh/${iface}/proxy_delay`, value: String(value) };
}

/** `net.ipv4.ip_forward`. */
export function ipForwardSysctl(value: 0 | 1 = 1): SysctlEntry {
  return { path: '/proc/sys/net/ipv4/ip_forward', value: String(value) };
}

/**
 * The path of a dotted key without interface names in it (`net.ipv4.ip_forward`). Keys that contain an
 * interface name must be built with {@link confSysctl}: names may contain dots.
 */
export function sysctlPath(key: string): string {
  if (!/^net\.[A-Za-z0-9_.]+$/.test(key) || key.includes('..')) {
    throw new InvalidArgumentError('sysctl key', key, 'must be net.<...> of letters, digits and _');
  }
  return `/proc/sys/${key.split('.').join('/')}`;
}

function checkPath(path: string): void {
  if (!path.startsWith('/proc/sys/net/') || path.includes('/../') || /[\n\0]/.test(path)) {
    throw new InvalidArgumentError('sysctl path', path, 'must be under /proc/sys/net/');
  }
}

function checkValue(value: string): void {
  if (/[\n\0]/.test(value)) throw new InvalidArgumentError('sysctl value', value, 'contains a newline');
}

/**
 * A shell fragment that writes (path, value, optional) triplets taken from its positional parameters,
 * skipping values already in place and reporting failures with {@link PRELUDE_MARKER}.
 */
export const SYSCTL_WRITE_SCRIPT = [
  'while [ $# -ge 3 ]; do',
  '  p=$1; v=$2; o=$3; shift 3',
  `  if [ ! -e "$p" ]; then [ "$o" = 1 ] || echo "${PRELUDE_MARKER}$p: No such file or directory" >&2; continue; fi`,
  '  [ "$(cat "$p" 2>/dev/null)" = "$v" ] && continue',
  `  e=$( { printf '%s\\n' "$v" > "$p"; } 2>&1 ) || echo "${PRELUDE_MARKER}$p: $e" >&2`,
  'done',
].join('\n');

/** The positional arguments of {@link SYSCTL_WRITE_SCRIPT}. */
export function sysctlScriptArgs(entries: readonly SysctlEntry[]): string[] {
  const args: string[] = [];
  for (const e of entries) {
    checkPath(e.path);
    checkValue(e.value);
    args.push(e.path, e.value, e.optional ? '1' : '0');
  }
  return args;
}

/** A prelude (see batch.ts) that writes `entries` before ip runs, in the same process. */
export function sysctlPrelude(entries: readonly SysctlEntry[]): Prelude {
  return { script: SYSCTL_WRITE_SCRIPT, args: sysctlScriptArgs(entries) };
}

/** Options of the sysctl functions. */
export interface SysctlOptions extends ExecOptions {
  readonly netns?: Netns | undefined;
}

function fsErrno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Writes the values that differ. Current namespace: plain file writes; another namespace: one process.
 * @throws PermissionError / NotFoundError / CommandError naming the first path that failed.
 */
export async function writeSysctls(entries: readonly SysctlEntry[], options?: SysctlOptions): Promise<void> {
  const ns = options?.netns ?? CURRENT_NETNS;
  const args = sysctlScriptArgs(entries);
  if (entries.length === 0) return;
  if (ns.kind === 'current') {
    for (const e of entries) {
      let current: string;
      try {
        current = (await readFile(e.path, 'utf8')).trim();
      } catch (err) {
        if (fsErrno(err) === 'ENOENT' && e.optional) continue;
        throw commandErrorFor(`cannot read ${e.path}`, { argv: [], errno: fsErrno(err), kernelMessage: String(err) });
      }
      if (current === e.value) continue;
      try {
        await writeFile(e.path, `${e.value}\n`);
      } catch (err) {
        throw commandErrorFor(`cannot write ${e.path}=${e.value}`, {
          argv: [],
          errno: fsErrno(err),
          kernelMessage: String(err),
        });
      }
    }
    return;
  }
  const argv = argvInNetns(ns, ['sh', '-c', SYSCTL_WRITE_SCRIPT, 'sh', ...args]);
  const r = await run({ argv }, options);
  const nsError = nsenterFailure(ns, r);
  if (nsError) throw nsError;
  const failed = parseBatchStderr(r.stderr).preludeMessages;
  if (r.code !== 0 || failed.length > 0) {
    const msg = failed[0] ?? r.stderr.trim();
    throw commandErrorFor(`cannot write sysctls in ${describeNetns(ns)}`, {
      argv,
      kernelMessage: msg,
      errno: errnoOf(msg),
      exitCode: r.code,
      stderr: r.stderr,
    });
  }
}

const READ_SCRIPT = `for p; do if v=$(cat "$p" 2>/dev/null); then printf 'V%s\\n' "$v"; else echo M; fi; done`;

/** Reads values (undefined for a missing file), in the order of `paths`. */
export async function readSysctls(paths: readonly string[], options?: SysctlOptions): Promise<(string | undefined)[]> {
  for (const p of paths) checkPath(p);
  const ns = options?.netns ?? CURRENT_NETNS;
  if (paths.length === 0) return [];
  if (ns.kind === 'current') {
    return Promise.all(
      paths.map(async (p) => {
        try {
          return (await readFile(p, 'utf8')).trim();
        } catch {
          return undefined;
        }
      }),
    );
  }
  const argv = argvInNetns(ns, ['sh', '-c', READ_SCRIPT, 'sh', ...paths]);
  const r = await run({ argv }, options);
  const nsError = nsenterFailure(ns, r);
  if (nsError) throw nsError;
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (r.code !== 0 || lines.length !== paths.length) {
    throw new CommandError(`cannot read sysctls in ${describeNetns(ns)}`, {
      argv,
      kernelMessage: r.stderr.trim(),
      exitCode: r.code,
    });
  }
  return lines.map((l) => (l.startsWith('V') ? l.slice(1).trim() : undefined));
}

/** Reads one value (undefined when the file is missing). */
export async function readSysctl(path: string, options?: SysctlOptions): Promise<string | undefined> {
  const [v] = await readSysctls([path], options);
  return v;
}
