/** Child processes of the stack: long-running ones (agents, relays, the controller) and one-shot commands. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';

export interface Child {
  readonly process: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  kill(): void;
}

export interface StartChildOptions {
  /**
   * Output goes to this file (appended) instead of a pipe, and the child gets its own process group: it
   * outlives its parent (`hostnic-sandbox up`) and writes nowhere that could break when the parent dies.
   */
  readonly logFile?: string | undefined;
}

export function startChild(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, options: StartChildOptions = {}): Child {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const { logFile } = options;
  let out = '';
  let child: ChildProcess;
  if (logFile === undefined) {
    child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  } else {
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    child.unref();
  }
  const output = (): string => (logFile === undefined ? out : readFileSync(logFile, 'utf8'));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    output,
    exited,
    waitForOutput: async (text, timeoutMs) => {
      const end = Date.now() + timeoutMs;
      while (!output().includes(text)) {
        if (done) throw new Error(`child exited before printing ${JSON.stringify(text)}:\n${output()}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(text)}:\n${output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], env: NodeJS.ProcessEnv, input: string, cwd: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A process that exits before reading its input (EPIPE) is reported by its exit code and output.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** GET on the agent's unix socket; undefined while nothing listens there. */
export function socketGet(socketPath: string, path: string): Promise<{ status: number; body: unknown } | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Left as text.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Polls until the probe gives a value. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

