/**
 * The exclusive lock around iptables and ebtables check-then-change sequences.
 *
 * The lock is flock(2) on /var/run/hostnic/hostnic.lock, taken through the `flock` program: the original
 * plugin runs `flock /var/run/hostnic/hostnic.lock /sbin/ebtables ...`, and during a rolling upgrade old and
 * new binaries must exclude each other, so the lock must be the same kind on the same file (a lock
 * directory or an O_EXCL file would not exclude them). Node has no flock(2) binding, so one `flock` process
 * holds the lock for the whole sequence: it prints a line once it owns the lock and keeps it until its
 * stdin closes. If the caller dies, the pipe closes, the holder exits and the kernel drops the lock, so a
 * crash never leaves a stale lock behind.
 *
 * @packageDocumentation
 */

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CommandError, LockTimeoutError } from './errors.ts';
import { spawnPiped } from './exec.ts';

/** The lock file shared with the original hostnic binaries [compat]. */
export const DEFAULT_LOCK_PATH = '/var/run/hostnic/hostnic.lock';

/** Default wait for the lock. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** Runs `fn` while holding a lock. */
export type Locker = <T>(fn: () => Promise<T>) => Promise<T>;

/** Lock-related options of the iptables/ebtables functions. */
export interface LockOptions {
  /** Lock file; default {@link DEFAULT_LOCK_PATH}. Its directory is created when missing. */
  readonly lockPath?: string | undefined;
  readonly lockTimeoutMs?: number | undefined;
  /** Use this instead of flock (tests with a fake executor, or a caller that already holds the lock). */
  readonly locker?: Locker | undefined;
}

/** A locker that does not lock (for tests, or callers that hold the lock themselves). */
export const noLock: Locker = (fn) => fn();

const READY = 'hostnic-locked';

/**
 * Runs `fn` while holding an exclusive flock(2) on `lockPath`.
 * @throws LockTimeoutError when the lock is not obtained within the timeout.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  timeoutMs: number = DEFAULT_LOCK_TIMEOUT_MS,
): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o755 });
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const argv = ['flock', '-x', '-w', String(seconds), lockPath, 'sh', '-c', `echo ${READY}; exec cat >/dev/null`];
  const holder = spawnPiped(argv);
  const exited = new Promise<number | null>((resolve) => holder.on('close', (code) => resolve(code)));
  let stderr = '';
  holder.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  holder.stdin.on('error', () => undefined);
  const acquired = await new Promise<boolean>((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes(READY)) resolve(true);
    });
    holder.on('error', (e) =>
      reject(new CommandError('cannot run flock', { argv, kernelMessage: e.message }, { cause: e })),
    );
    void exited.then(() => resolve(false));
  });
  if (!acquired) {
    const code = await exited;
    throw new LockTimeoutError(`could not lock ${lockPath} within ${seconds} s`, {
      argv,
      exitCode: code,
      kernelMessage: stderr.trim() || undefined,
      stderr,
    });
  }
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await exited;
  }
}

/** The locker that {@link LockOptions} describe. */
export function lockerFor(options?: LockOptions): Locker {
  if (options?.locker) return options.locker;
  const path = options?.lockPath ?? DEFAULT_LOCK_PATH;
  return (fn) => withFileLock(path, fn, options?.lockTimeoutMs);
}
