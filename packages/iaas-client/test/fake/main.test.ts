import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { call, controlJson, ok, set } from './helpers.ts';
import type { Target } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/fake/main.ts', import.meta.url));

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Starts main.ts (process.execPath is Node 24 inside vitest) and waits for its one JSON line. */
async function startMain(args: string[]): Promise<{ child: ChildProcess; target: Target; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, ['--conditions=@hostnic/source', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`main.ts exited with ${code}: ${stderr}`)));
  });
  const { url, port } = JSON.parse(first) as { url: string; port: number };
  return { child, port, target: { url, zone: 'pek3a', clock: { now: () => new Date() } }, stderr: () => stderr };
}

describe('main.ts as a standalone process', () => {
  it('prints its URL, serves the API and the control API, and exits cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-qingcloud-'));
    dirs.push(dir);
    const stateFile = join(dir, 'state.json');
    await writeFile(stateFile, JSON.stringify({ vxnets: [{ vxnet_id: 'vxnet-fromfil' }] }));
    const { child, target, port } = await startMain(['--port', '0', '--state', stateFile, '--seed', '3', '--work-ms', '10']);
    expect(target.url).toBe(`http://127.0.0.1:${port}`);
    expect(port).toBeGreaterThan(0);

    const vxnets = set<{ vxnet_id: string }>(await ok(target, 'DescribeVxnets'), 'vxnet_set');
    expect(vxnets.map((v) => v.vxnet_id)).toEqual(['vxnet-fromfil']);
    const seeded = await controlJson(target, 'POST', '/instances', { vxnet_id: 'vxnet-fromfil' });
    expect(seeded.status).toBe(201);
    expect((await call(target, 'DescribeVxnets', {}, { secret: 'wrong' })).ret_code).toBe(1200);

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  });

  it('--no-verify-signature accepts unsigned calls; SIGINT also stops it', async () => {
    const { child, target } = await startMain(['--no-verify-signature']);
    const res = await fetch(`${target.url}/iaas?action=DescribeAccessKeys`);
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(0);
    child.kill('SIGINT');
    expect((await exited(child)).code).toBe(0);
  });

  it('bad arguments exit with 2 and say why', async () => {
    const child = spawn(process.execPath, ['--conditions=@hostnic/source', MAIN, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    expect((await exited(child)).code).toBe(2);
    expect(stderr).toContain('--port must be a non-negative integer');
  });
});
