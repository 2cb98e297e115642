import { execFile } from 'node:child_process';
import { CommandFailedError } from './errors.ts';

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program (no shell) and returns its output; a non-zero exit is a CommandFailedError with the output. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || stdout.trim() || error.message;
          reject(new CommandFailedError(`${file} ${args.join(' ')} (in ${options.cwd}) failed: ${detail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
