import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** kubectl exited non-zero (or could not be started); carries what it printed. */
export class KubectlError extends Error {
  readonly args: readonly string[];
  readonly stdout: string;
  readonly stderr: string;

  constructor(args: readonly string[], stdout: string, stderr: string, cause: unknown) {
    const missing = cause instanceof Error && 'code' in cause && cause.code === 'ENOENT';
    const detail = missing ? 'kubectl is not installed (apt-get install kubernetes-client, or run scripts/install-system-deps.sh)' : stderr.trim() || String(cause);
    super(`kubectl ${args.join(' ')}: ${detail}`, { cause });
    this.name = 'KubectlError';
    this.args = args;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export interface KubectlOptions {
  /** The kubeconfig file kubectl is pointed at (`--kubeconfig`). */
  kubeconfig: string;
  /** kubectl's discovery cache (`--cache-dir`); a private directory keeps runs from seeing each other's. */
  cacheDir: string;
  /** Working directory, for relative `-f` paths. */
  cwd?: string;
  /** Default `kubectl` on PATH. */
  binary?: string;
}

function fullArgs(options: KubectlOptions, args: readonly string[]): string[] {
  return [`--kubeconfig=${options.kubeconfig}`, `--cache-dir=${options.cacheDir}`, ...args];
}

/** The environment kubectl runs in: KUBECONFIG cleared so that only `--kubeconfig` counts. */
function env(): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: '' };
}

/**
 * Runs kubectl to completion, asynchronously: the fake apiserver it talks to usually lives in this same
 * process, so a synchronous spawn would deadlock.
 */
export function kubectl(options: KubectlOptions, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(options.binary ?? 'kubectl', fullArgs(options, args), { cwd: options.cwd, env: env(), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new KubectlError(args, stdout, stderr, error));
      else resolve(stdout);
    });
  });
}

/** A long-running kubectl (`get -w`): its output so far, and a way to stop it. */
export interface KubectlProcess {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startKubectl(options: KubectlOptions, args: readonly string[]): KubectlProcess {
  const child = spawn(options.binary ?? 'kubectl', fullArgs(options, args), { cwd: options.cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
