/** Running `hostnic-sandbox` as a user does (the package's bin), against a private state root. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../../src/stack/index.ts';

export const exec = promisify(execFile);
const BIN = join(REPO, 'node_modules/.bin/hostnic-sandbox');

/** Runs the CLI with HOSTNIC_SANDBOX_DIR=root; rejects on a non-zero exit. */
export async function sandboxCli(root: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(BIN, [...args], { env: { ...process.env, HOSTNIC_SANDBOX_DIR: root }, cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
}

/** Whether `ip` answers one ping from inside the namespace `netns`. */
export async function ping(netns: string, ip: string): Promise<boolean> {
  return exec('ip', ['netns', 'exec', netns, 'ping', '-c', '1', '-W', '2', ip]).then(
    () => true,
    () => false,
  );
}
