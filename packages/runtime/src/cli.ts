/**
 * What every hostnic command line shares: the commander setup (output to the given streams, no process.exit,
 * `--version`), the exit codes, running a command line to an exit code, and the process-level glue (main
 * module check, stop signals).
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorText } from './errors.ts';
import { versionText } from './version.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * A program that writes to `io`, throws instead of exiting, and answers `--version` with `version` (the
 * package's) and the git revision the bundle recorded.
 */
export function newProgram(name: string, description: string, version: string, io: CliOutput): Command {
  return new Command(name)
    .description(description)
    .version(versionText(version), '--version', 'print the version (and the git revision of the build) and exit')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
}

/**
 * Parses `argv` (without node and the script) with a program built for this run, and returns the exit code:
 * the one the action set, 0 for help and version, 2 for usage errors (commander already printed them), 1 for
 * anything thrown (printed as `name: message`, the message carrying the whole story).
 */
export async function runProgram(build: (setCode: (code: number) => void) => Command, argv: readonly string[], io: CliOutput): Promise<number> {
  let code = EXIT_OK;
  const program = build((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr(`${program.name()}: ${errorText(err)}\n`);
    return EXIT_FAILURE;
  }
}

/** Whether the module at `moduleUrl` is the script node was started with (also through a bin symlink). */
export function isMainModule(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** The process's own streams and environment, for the entry point. */
export function processIo(): CliOutput & { env: NodeJS.ProcessEnv } {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };
}

/**
 * Resolves on the first SIGTERM or SIGINT. With `onSecond`, a second signal while stopping calls it (e.g. to
 * exit at once); without, the handlers are removed after the first.
 */
export function stopSignal(onSecond?: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (signal: NodeJS.Signals): void => {
      if (seen) {
        onSecond?.();
        return;
      }
      seen = true;
      if (onSecond === undefined) {
        process.off('SIGTERM', on);
        process.off('SIGINT', on);
      }
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
