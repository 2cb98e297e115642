/**
 * A long-running process of the stack (an agent, the controller) that a test can stop and start again, e.g.
 * SIGKILL it to play a crash and start it with HOSTNIC_FAILPOINT to make it kill itself at a named step.
 */
import type { Child } from './processes.ts';

export interface RestartOptions {
  /** How the running process is stopped, unless it already exited (default SIGTERM; SIGKILL for a crash). */
  readonly signal?: NodeJS.Signals;
  /** Added to the process's environment for this start only (e.g. HOSTNIC_FAILPOINT). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Wait until the new process is ready (default true). False for a start that is meant to die on the way,
   * e.g. at a failpoint reached during start-up: await `child.exited` instead.
   */
  readonly ready?: boolean;
}

export interface Restartable {
  /** The process now running (a new one after each restart). */
  readonly child: Child;
  /** Stops the process with `signal` (default SIGTERM) unless it already exited; resolves with how it ended. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** Stops the process as `stop` does, starts it again and (by default) waits until it is ready. */
  restart(options?: RestartOptions): Promise<Child>;
}

/**
 * `start` runs the process with extra environment; `ready` resolves once the given process serves (and throws
 * with its output when it does not).
 */
export function restartable(
  start: (env: Readonly<Record<string, string>>) => Child,
  ready: (child: Child) => Promise<void>,
): Restartable {
  let current = start({});
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> => {
    if (current.process.exitCode === null && current.process.signalCode === null) current.process.kill(signal);
    return current.exited;
  };
  return {
    get child() {
      return current;
    },
    stop,
    restart: async (options = {}) => {
      await stop(options.signal);
      current = start(options.env ?? {});
      if (options.ready ?? true) await ready(current);
      return current;
    },
  };
}
