/**
 * iproute2 batch mode: many commands, one process.
 *
 * Changes go to `ip [-force] -batch -` with one command per stdin line. With `-force` ip goes on after a
 * failed line and reports each failure on stderr as the kernel's message followed by `Command failed -:<n>`;
 * without it ip stops at the first failure. A few commands (e.g. `neigh add`/`neigh del` on EEXIST/ENOENT,
 * or an argument ip cannot resolve such as `master <missing>`) make ip exit on the spot (status 2 or 255)
 * with the message and no `Command failed` line: the batch is then "aborted" and every line after the last
 * reported failure has an unknown outcome. Builders in this package avoid those commands for that reason
 * (e.g. `neigh replace` instead of `neigh add`, `neigh flush` instead of `neigh del`).
 *
 * Reads go to `ip -N -json -details -force -batch -`: every successful `show` prints one JSON array on one
 * line, a failed one prints nothing on stdout, so outputs are matched to commands through the failures.
 *
 * @packageDocumentation
 */

import { CommandError, InvalidArgumentError, ParseError, commandErrorFor, errnoOf } from './errors.ts';
import type { ExecOptions, ExecResult } from './exec.ts';
import { hasControlChar } from './names.ts';
import { run } from './exec.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS, argvInNetns, describeNetns, nsenterFailure } from './netns.ts';

/** One line of a batch. */
export interface BatchOp {
  /** The command without `ip`, as tokens: `['route', 'replace', '10.0.0.0/24', 'dev', 'br_260']`. */
  readonly args: readonly string[];
  /**
   * Errno names that mean "already done" for this command (e.g. `EEXIST` for `rule add`, `ESRCH` for
   * `route del`): such a failure is reported as status `already`, not as an error.
   */
  readonly tolerate?: readonly string[] | undefined;
}

/** A token must survive ip's own line splitting unchanged: no blanks, quotes, backslashes or comments. */
export function validateToken(token: string): void {
  if (token === '' || /[\s"'\\]/.test(token) || token.startsWith('#') || hasControlChar(token)) {
    throw new InvalidArgumentError('batch token', token, 'must be non-empty, without blanks, quotes, "\\" or a leading "#"');
  }
}

/** Builds an op after validating its tokens. */
export function op(args: readonly string[], tolerate?: readonly string[]): BatchOp {
  for (const t of args) validateToken(t);
  return tolerate === undefined ? { args } : { args, tolerate };
}

/** The text of one batch line. */
export function batchLine(o: BatchOp): string {
  return o.args.join(' ');
}

/** The stdin of a batch: one line per op, newline-terminated. */
export function batchText(ops: readonly BatchOp[]): string {
  return ops.map((o) => `${batchLine(o)}\n`).join('');
}

/** One `Command failed` report. */
export interface BatchFailure {
  /** 1-based line number in the batch. */
  readonly lineNo: number;
  /** What ip printed for it (the kernel's message; several lines when ip printed several). */
  readonly message: string;
}

/** stderr of a batch, taken apart. */
export interface ParsedBatchStderr {
  readonly failures: readonly BatchFailure[];
  /** Text after the last `Command failed` line: the reason of an abort, or stray warnings. */
  readonly trailing: string;
  /** Lines a shell prelude printed with the `hostnic-prelude: ` prefix (its own failures). */
  readonly preludeMessages: readonly string[];
}

/** The marker a shell prelude prints before describing one of its own failures. */
export const PRELUDE_MARKER = 'hostnic-prelude: ';

const COMMAND_FAILED = /^Command failed .*:(\d+)$/;

/** Splits batch stderr into per-line failures, trailing text and prelude messages. */
export function parseBatchStderr(stderr: string): ParsedBatchStderr {
  const failures: BatchFailure[] = [];
  const preludeMessages: string[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    if (line.startsWith(PRELUDE_MARKER)) {
      preludeMessages.push(line.slice(PRELUDE_MARKER.length));
      continue;
    }
    const m = COMMAND_FAILED.exec(line);
    if (m?.[1] !== undefined) {
      failures.push({ lineNo: Number(m[1]), message: pending.join('\n') });
      pending = [];
    } else {
      pending.push(line);
    }
  }
  return { failures, trailing: pending.join('\n'), preludeMessages };
}

/** What happened to one op. */
export type OpStatus =
  /** Applied. */
  | 'ok'
  /** Failed with a tolerated errno: the state it asked for was already there. */
  | 'already'
  /** Failed; see `error`. */
  | 'failed'
  /** Not attempted, because the batch stopped at an earlier failure (no `-force`). */
  | 'not-run'
  /** The batch aborted somewhere at or before this line: it may or may not have been applied. */
  | 'unknown';

/** The outcome of one op of a batch. */
export interface OpOutcome {
  readonly op: BatchOp;
  readonly lineNo: number;
  readonly line: string;
  readonly status: OpStatus;
  readonly error?: CommandError | undefined;
}

/** The outcome of a whole batch. */
export interface BatchResult {
  readonly argv: readonly string[];
  readonly outcomes: readonly OpOutcome[];
  /** True when every op is `ok` or `already` and the prelude reported nothing. */
  readonly ok: boolean;
  /** The first error: a failed op, an abort, or a prelude failure. */
  readonly error?: CommandError | undefined;
  /** Failures the shell prelude reported. */
  readonly preludeMessages: readonly string[];
}

/** Throws the batch's first error, if any. */
export function throwIfFailed(result: BatchResult): void {
  if (result.error) throw result.error;
}

/**
 * The errno of a failure message, looking from its last line up: ip sometimes adds a line after the
 * kernel's answer (`Dump terminated`) or prints a warning before it.
 */
export function errnoOfMessage(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    const errno = errnoOf(lines[i] ?? '');
    if (errno !== undefined) return errno;
  }
  return undefined;
}

/**
 * Turns the result of one batch process into per-op outcomes (pure, so it is tested with captured output).
 * @param force whether the batch ran with `-force` (otherwise ip stopped at the first failure).
 */
export function interpretBatch(ops: readonly BatchOp[], result: ExecResult, force: boolean): BatchResult {
  const parsed = parseBatchStderr(result.stderr);
  const byLine = new Map(parsed.failures.map((f) => [f.lineNo, f.message]));
  const lastReported = parsed.failures.reduce((m, f) => Math.max(m, f.lineNo), 0);
  const firstReported = parsed.failures.reduce((m, f) => Math.min(m, f.lineNo), Number.POSITIVE_INFINITY);
  // ip's batch loop exits with 1 after failed lines; anything else means a command exited the process.
  const aborted = result.code !== 0 && result.code !== 1;
  const abortError = aborted
    ? new CommandError(`batch aborted after line ${lastReported}`, {
        argv: result.argv,
        kernelMessage: parsed.trailing || `exit status ${result.code ?? result.signal ?? '?'}`,
        errno: errnoOfMessage(parsed.trailing),
        exitCode: result.code,
        stderr: result.stderr,
      })
    : undefined;
  let firstError: CommandError | undefined;
  const outcomes = ops.map((o, i): OpOutcome => {
    const lineNo = i + 1;
    const line = batchLine(o);
    const message = byLine.get(lineNo);
    if (message !== undefined) {
      const errno = errnoOfMessage(message);
      if (errno !== undefined && o.tolerate?.includes(errno)) return { op: o, lineNo, line, status: 'already' };
      const error = commandErrorFor(`ip ${o.args[0] ?? ''} ${o.args[1] ?? ''}`.trimEnd() + ' failed', {
        argv: result.argv,
        line,
        lineNo,
        kernelMessage: message,
        errno,
        exitCode: result.code,
        stderr: result.stderr,
      });
      firstError ??= error;
      return { op: o, lineNo, line, status: 'failed', error };
    }
    if (abortError && lineNo > lastReported) {
      firstError ??= abortError;
      return { op: o, lineNo, line, status: 'unknown', error: abortError };
    }
    if (!force && lineNo > firstReported) return { op: o, lineNo, line, status: 'not-run' };
    return { op: o, lineNo, line, status: 'ok' };
  });
  if (parsed.preludeMessages.length > 0 && !firstError) {
    firstError = new CommandError('shell prelude failed', {
      argv: result.argv,
      kernelMessage: parsed.preludeMessages.join('; '),
      errno: errnoOf(parsed.preludeMessages[0] ?? ''),
      exitCode: result.code,
      stderr: result.stderr,
    });
  }
  return {
    argv: result.argv,
    outcomes,
    ok: firstError === undefined,
    error: firstError,
    preludeMessages: parsed.preludeMessages,
  };
}

/** A shell script run before `exec ip ... -batch -` in the same process (e.g. sysctl writes). */
export interface Prelude {
  /** sh script; variable data only through positional parameters ($1...). Report own failures with
   * `echo "hostnic-prelude: ..." >&2`. */
  readonly script: string;
  readonly args: readonly string[];
}

/** Options of {@link applyBatch}. */
export interface BatchOptions extends ExecOptions {
  /** Where to run. Default: the current namespace. */
  readonly netns?: Netns | undefined;
  /** Go on after a failed line (`-force`). Default true. */
  readonly force?: boolean | undefined;
  /** Shell commands to run first, in the same process. */
  readonly prelude?: Prelude | undefined;
}

/** The argv of a change batch. */
export function batchArgv(options?: BatchOptions): string[] {
  const ns = options?.netns ?? CURRENT_NETNS;
  const force = options?.force ?? true;
  const ip = ['ip', ...(force ? ['-force'] : []), '-batch', '-'];
  const prelude = options?.prelude;
  const inner = prelude ? ['sh', '-c', `${prelude.script}\nexec ${ip.join(' ')}`, 'sh', ...prelude.args] : ip;
  return argvInNetns(ns, inner);
}

/**
 * Applies `ops` in one process (`ip -force -batch -`, inside `netns` through nsenter) and reports per-op
 * outcomes. Never throws for a failed op (see {@link BatchResult.error} and {@link throwIfFailed}); throws
 * {@link NetnsGoneError} when the namespace is gone and {@link CommandError} when the process could not run.
 * An empty batch without prelude spawns nothing.
 */
export async function applyBatch(ops: readonly BatchOp[], options?: BatchOptions): Promise<BatchResult> {
  if (ops.length === 0 && !options?.prelude) return { argv: [], outcomes: [], ok: true, preludeMessages: [] };
  const argv = batchArgv(options);
  const result = await run({ argv, input: batchText(ops) }, options);
  const nsError = nsenterFailure(options?.netns ?? CURRENT_NETNS, result);
  if (nsError) throw nsError;
  if (result.signal !== null) {
    throw new CommandError(`ip batch killed by ${result.signal}`, { argv, stderr: result.stderr });
  }
  return interpretBatch(ops, result, options?.force ?? true);
}

/** Applies `ops` and throws the first error. */
export async function applyBatchOrThrow(ops: readonly BatchOp[], options?: BatchOptions): Promise<BatchResult> {
  const result = await applyBatch(ops, options);
  throwIfFailed(result);
  return result;
}

/** The outcome of one read command of {@link readBatch}. */
export type ReadOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: CommandError };

/** argv of a read batch. */
export function readArgv(netns: Netns): string[] {
  return argvInNetns(netns, ['ip', '-N', '-json', '-details', '-force', '-batch', '-']);
}

/**
 * Matches the stdout lines of a JSON read batch to its commands (pure). A failed command prints nothing on
 * stdout, so the lines are assigned to the commands that did not fail, in order.
 */
export function interpretReadBatch(commands: readonly (readonly string[])[], result: ExecResult): ReadOutcome[] {
  const parsed = parseBatchStderr(result.stderr);
  const failed = new Map(parsed.failures.map((f) => [f.lineNo, f.message]));
  if (result.code !== 0 && result.code !== 1) {
    throw new CommandError('ip read batch aborted', {
      argv: result.argv,
      kernelMessage: parsed.trailing,
      exitCode: result.code,
      stderr: result.stderr,
    });
  }
  const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
  let next = 0;
  return commands.map((args, i): ReadOutcome => {
    const lineNo = i + 1;
    const line = args.join(' ');
    const message = failed.get(lineNo);
    if (message !== undefined) {
      const errno = errnoOfMessage(message);
      return {
        ok: false,
        error: commandErrorFor(`ip ${line} failed`, {
          argv: result.argv,
          line,
          lineNo,
          kernelMessage: message,
          errno,
          exitCode: result.code,
        }),
      };
    }
    const text = lines[next++];
    if (text === undefined) throw new ParseError(`no output for "ip ${line}"`, result.stdout);
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      throw new ParseError(`output of "ip ${line}" is not JSON`, text);
    }
  });
}

/**
 * Runs read commands (`['addr', 'show']`, `['route', 'show', 'table', 'all']`, ...) in one process and
 * returns each one's parsed JSON. `-N` makes tables, scopes and protocols numeric, so a node's custom
 * /etc/iproute2/rt_tables names never reach the parser.
 */
export async function readBatch(
  commands: readonly (readonly string[])[],
  options?: ExecOptions & { readonly netns?: Netns | undefined },
): Promise<ReadOutcome[]> {
  for (const c of commands) for (const t of c) validateToken(t);
  const ns = options?.netns ?? CURRENT_NETNS;
  const argv = readArgv(ns);
  const result = await run({ argv, input: commands.map((c) => `${c.join(' ')}\n`).join('') }, options);
  const nsError = nsenterFailure(ns, result);
  if (nsError) throw nsError;
  if (result.signal !== null) {
    throw new CommandError(`ip read batch in ${describeNetns(ns)} killed by ${result.signal}`, { argv });
  }
  return interpretReadBatch(commands, result);
}

/** Runs one read command and returns its JSON, throwing its error. */
export async function readOne(args: readonly string[], options?: ExecOptions & { readonly netns?: Netns | undefined }): Promise<unknown> {
  const [outcome] = await readBatch([args], options);
  if (!outcome) throw new ParseError('no read outcome', args.join(' '));
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
