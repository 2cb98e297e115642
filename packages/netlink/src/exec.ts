/**
 * Process execution: argv arrays only (never a shell with interpolated strings), stdin from a string, a
 * deadline, collected output, and a spawn counter so that callers and tests can see what an operation costs.
 *
 * @packageDocumentation
 */

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { CommandError, TimeoutError } from './errors.ts';

/** One process to run. */
export interface ExecRequest {
  /** Program and arguments; `argv[0]` is looked up in PATH (see {@link execPath}). */
  readonly argv: readonly string[];
  /** Written to stdin, which is then closed. Without it stdin is empty. */
  readonly input?: string | undefined;
  /** Kill the process (SIGKILL) after this many milliseconds. Default {@link DEFAULT_TIMEOUT_MS}. */
  readonly timeoutMs?: number | undefined;
}

/** What a process did. A non-zero exit is not an error at this level: callers interpret it. */
export interface ExecResult {
  readonly argv: readonly string[];
  /** Exit status, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** Runs one process. Replaceable (see {@link ExecOptions.exec}) so that logic can be tested without root. */
export type Executor = (request: ExecRequest) => Promise<ExecResult>;

/** Options accepted by every function that runs something. */
export interface ExecOptions {
  /** Use this instead of spawning real processes (tests, dry runs, logging wrappers). */
  readonly exec?: Executor | undefined;
  /** Deadline per spawned process. */
  readonly timeoutMs?: number | undefined;
}

/** Default deadline of one process: generous, because a loaded node can take seconds for netlink dumps. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The PATH given to children: the caller's PATH plus the sbin directories. The CNI plugin runs with
 * whatever environment the container runtime passes, which does not always include /usr/sbin, where
 * iproute2, iptables and ebtables live on Debian and CentOS.
 */
export function execPath(current: string | undefined = process.env['PATH']): string {
  const dirs = (current ?? '').split(':').filter((d) => d !== '');
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  return dirs.join(':');
}

type SpawnListener = (argv: readonly string[]) => void;
const listeners = new Set<SpawnListener>();
let spawned = 0;

/** Number of processes spawned by this module since the process started (real spawns only). */
export function spawnCount(): number {
  return spawned;
}

/** Calls `listener` with the argv of every real spawn; returns the function that unsubscribes. */
export function onSpawn(listener: SpawnListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Spawns `argv` with pipes on all three streams, counted like every other spawn. For the few processes that
 * must outlive one request/response exchange (the lock holder); everything else uses {@link run}.
 */
export function spawnPiped(argv: readonly string[]): ChildProcessWithoutNullStreams {
  const program = argv[0];
  if (program === undefined) throw new Error('exec: empty argv');
  spawned++;
  for (const l of listeners) l(argv);
  // LC_ALL=C: the error texts we classify are the untranslated ones.
  return spawn(program, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PATH: execPath(), LC_ALL: 'C' },
  });
}

/** Spawns one real process. */
export const spawnProcess: Executor = (request) => {
  const argv = request.argv;
  const program = argv[0];
  if (program === undefined) return Promise.reject(new Error('exec: empty argv'));
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawnPiped(argv);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A child that exits before reading stdin makes the write fail with EPIPE; its exit status says more.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CommandError(`cannot run ${program}`, { argv, kernelMessage: e.message }, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new TimeoutError(`${program} did not finish within ${timeoutMs} ms`, {
            argv,
            exitCode: code,
            stderr,
          }),
        );
        return;
      }
      resolve({ argv, code, signal, stdout, stderr, durationMs: performance.now() - started });
    });
    child.stdin.end(request.input ?? '');
  });
};

/** Runs `request` with the executor from `options`, or a real spawn. */
export function run(request: ExecRequest, options?: ExecOptions): Promise<ExecResult> {
  const exec = options?.exec ?? spawnProcess;
  return exec({ ...request, timeoutMs: request.timeoutMs ?? options?.timeoutMs });
}
