/**
 * Typed errors of `@hostnic/netlink`.
 *
 * Every error derives from {@link NetlinkError} and carries a stable `code`. Errors that come from a command
 * ({@link CommandError} and its subclasses) also carry what ran (`argv`, and for batch mode the batch `line`
 * and its number) and what the kernel or the tool answered (`kernelMessage`, `errno` when it could be
 * recognised), so a caller can log one object and an operator can re-run the exact command.
 *
 * @packageDocumentation
 */

/** The stable codes of {@link NetlinkError}; the values never change meaning. */
export const NetlinkErrorCode = {
  /** A command failed for a reason without a more specific class below. */
  CommandFailed: 'CommandFailed',
  /** The object (link, route, rule, address, neighbour, netns entry, sysctl) does not exist. */
  NotFound: 'NotFound',
  /** The object already exists (and, for a create, may differ from what was asked). */
  Exists: 'Exists',
  /** The kernel or the filesystem refused the change (EPERM/EACCES): not root, or a read-only /proc/sys. */
  Permission: 'Permission',
  /** The network namespace path is gone: vanished, a leftover plain file, or not a network namespace. */
  NetnsGone: 'NetnsGone',
  /** A command did not finish within its deadline and was killed. */
  Timeout: 'Timeout',
  /** An argument failed validation before anything ran. */
  InvalidArgument: 'InvalidArgument',
  /** A tool printed output that could not be understood (a version we do not know). */
  Parse: 'Parse',
  /** The exclusive lock file could not be taken within its deadline. */
  LockTimeout: 'LockTimeout',
} as const;

/** One of the values of {@link NetlinkErrorCode}. */
export type NetlinkErrorCode = (typeof NetlinkErrorCode)[keyof typeof NetlinkErrorCode];

/** Base class of every error thrown by `@hostnic/netlink`. */
export abstract class NetlinkError extends Error {
  abstract readonly code: NetlinkErrorCode;
  override name = 'NetlinkError';
}

/** Where a command failure happened and what the tool said. */
export interface CommandErrorDetails {
  /** The process that ran (e.g. `nsenter --net=/var/run/netns/x -- ip -force -batch -`). */
  readonly argv: readonly string[];
  /** The batch line that failed (without the trailing newline), when the command ran in batch mode. */
  readonly line?: string | undefined;
  /** 1-based number of that line in the batch. */
  readonly lineNo?: number | undefined;
  /** What the kernel or the tool printed about this failure (e.g. `RTNETLINK answers: File exists`). */
  readonly kernelMessage?: string | undefined;
  /** The errno name recognised in {@link kernelMessage} (e.g. `EEXIST`), when there was one. */
  readonly errno?: string | undefined;
  /** Exit status of the process, when it exited. */
  readonly exitCode?: number | null | undefined;
  /** Everything the process wrote to stderr. */
  readonly stderr?: string | undefined;
}

function describe(summary: string, d: CommandErrorDetails): string {
  const parts = [summary];
  if (d.kernelMessage) parts.push(`: ${d.kernelMessage}`);
  if (d.line !== undefined) parts.push(` (batch line ${d.lineNo ?? '?'}: "${d.line}")`);
  if (d.argv.length > 0) parts.push(` [${d.argv.join(' ')}]`);
  return parts.join('');
}

/** A command failed. Subclasses say why when the answer was recognised. */
export class CommandError extends NetlinkError {
  readonly code: NetlinkErrorCode = NetlinkErrorCode.CommandFailed;
  override name = 'CommandError';
  readonly argv: readonly string[];
  readonly line: string | undefined;
  readonly lineNo: number | undefined;
  readonly kernelMessage: string | undefined;
  readonly errno: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly stderr: string | undefined;

  constructor(summary: string, details: CommandErrorDetails, options?: ErrorOptions) {
    super(describe(summary, details), options);
    this.argv = details.argv;
    this.line = details.line;
    this.lineNo = details.lineNo;
    this.kernelMessage = details.kernelMessage;
    this.errno = details.errno;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
  }
}

/** ENOENT, ESRCH, ENODEV and friends: what was named does not exist. */
export class NotFoundError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.NotFound;
  override name = 'NotFoundError';
}

/** EEXIST: the object already exists. */
export class ExistsError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.Exists;
  override name = 'ExistsError';
}

/** EPERM / EACCES. */
export class PermissionError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.Permission;
  override name = 'PermissionError';
}

/** The network namespace is gone (vanished path, leftover plain file, or not a network namespace). */
export class NetnsGoneError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.NetnsGone;
  override name = 'NetnsGoneError';
  /** The path that was expected to be a live network namespace. */
  readonly path: string;
  constructor(path: string, details: CommandErrorDetails, options?: ErrorOptions) {
    super(`network namespace ${path} is gone`, details, options);
    this.path = path;
  }
}

/** The command ran past its deadline and was killed. */
export class TimeoutError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.Timeout;
  override name = 'TimeoutError';
}

/** The lock file could not be taken in time. */
export class LockTimeoutError extends CommandError {
  override readonly code: NetlinkErrorCode = NetlinkErrorCode.LockTimeout;
  override name = 'LockTimeoutError';
}

/** An argument failed validation; nothing ran. */
export class InvalidArgumentError extends NetlinkError {
  readonly code = NetlinkErrorCode.InvalidArgument;
  override name = 'InvalidArgumentError';
  /** The argument's name, e.g. `ifName`. */
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, reason: string) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${reason}`);
    this.field = field;
    this.value = value;
  }
}

/** A tool's output could not be understood. */
export class ParseError extends NetlinkError {
  readonly code = NetlinkErrorCode.Parse;
  override name = 'ParseError';
  /** The piece of output that failed, shortened. */
  readonly excerpt: string;
  constructor(message: string, excerpt: string) {
    super(`${message}: ${excerpt.length > 300 ? `${excerpt.slice(0, 300)}...` : excerpt}`);
    this.excerpt = excerpt;
  }
}

/**
 * The errno names recognised in the standard strerror texts that iproute2, nsenter and the netfilter tools
 * print (`RTNETLINK answers: <strerror>`). These are the kernel's answer translated by libc, not free text.
 */
const STRERROR: ReadonlyArray<readonly [string, string]> = [
  ['File exists', 'EEXIST'],
  ['No such file or directory', 'ENOENT'],
  ['No such process', 'ESRCH'],
  ['No such device', 'ENODEV'],
  ['Operation not permitted', 'EPERM'],
  ['Permission denied', 'EACCES'],
  ['Operation not supported', 'EOPNOTSUPP'],
  ['Device or resource busy', 'EBUSY'],
  ['Cannot assign requested address', 'EADDRNOTAVAIL'],
  ['Invalid argument', 'EINVAL'],
  ['Numerical result out of range', 'ERANGE'],
  ['Network is unreachable', 'ENETUNREACH'],
  ['Network is down', 'ENETDOWN'],
  ['Address family not supported by protocol', 'EAFNOSUPPORT'],
  ['Too many links', 'EMLINK'],
  ['Read-only file system', 'EROFS'],
];

/**
 * Messages that iproute2 prints itself (before asking the kernel) or that the kernel sends as an extended ack
 * (`Error: ...`) instead of a plain errno. Only those with an unambiguous errno are listed; anything else
 * stays a plain {@link CommandError} with its message.
 */
const IPROUTE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Cannot find device "/, 'ENODEV'],
  [/^Device "[^"]*" does not exist\.?$/, 'ENODEV'],
  [/is wrong: Device does not exist$/, 'ENODEV'],
  [/^Error: ipv4: Address already assigned\.?$/, 'EEXIST'],
  [/^Error: ipv6: address already assigned\.?$/i, 'EEXIST'],
  [/^Error: ipv4: Address not found\.?$/, 'EADDRNOTAVAIL'],
  [/^Error: ipv6: address not found\.?$/i, 'EADDRNOTAVAIL'],
  [/^Error: Device does not exist\.?$/, 'ENODEV'],
  [/^Error: Unknown device type\.?$/, 'EOPNOTSUPP'],
  [/^Error: Nexthop has invalid gateway\.?$/, 'EINVAL'],
  [/^Error: ipv4: FIB table does not exist\.?$/, 'ENOENT'],
];

/** The errno name a tool message stands for, or undefined when it is not recognised. */
export function errnoOf(message: string): string | undefined {
  const text = message.trim();
  for (const [re, errno] of IPROUTE_MESSAGES) if (re.test(text)) return errno;
  // strerror texts end the message: "RTNETLINK answers: File exists", "nsenter: cannot open X: No such ..."
  for (const [str, errno] of STRERROR) if (text.endsWith(str) || text.endsWith(`${str}.`)) return errno;
  return undefined;
}

/**
 * The errno of the first strerror text found anywhere in `message`, for tools that wrap it in their own
 * words (nft-based ebtables: `RULE_INSERT failed (Operation not supported): rule in chain PREROUTING`).
 */
export function findErrno(message: string): string | undefined {
  let best: { at: number; errno: string } | undefined;
  for (const [str, errno] of STRERROR) {
    const at = message.indexOf(str);
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, errno };
  }
  return best?.errno;
}

/** Errno names that mean "what you named does not exist". */
export const NOT_FOUND_ERRNOS: readonly string[] = ['ENOENT', 'ESRCH', 'ENODEV'];

/** Builds the most specific error class for a failure with the given errno. */
export function commandErrorFor(summary: string, details: CommandErrorDetails): CommandError {
  const errno = details.errno;
  if (errno === 'EEXIST') return new ExistsError(summary, details);
  if (errno !== undefined && NOT_FOUND_ERRNOS.includes(errno)) return new NotFoundError(summary, details);
  if (errno === 'EPERM' || errno === 'EACCES') return new PermissionError(summary, details);
  return new CommandError(summary, details);
}
