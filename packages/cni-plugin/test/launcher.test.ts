/**
 * The installed plugin's code cache (src/launcher.ts): written beside the plugin after the first call, one
 * file per build and Node version, private to root; never a reason for a call to fail. Each test installs
 * its own copy, so that no other test file's calls touch its cache.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../scripts/build.ts';
import { cniEnv } from './helpers/plugin.ts';
import { run } from './helpers/sh.ts';

let dir: string;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hn-launcher-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh install of the built plugin (the global setup built dist/hostnic). */
function install(): string {
  seq += 1;
  const bin = join(dir, `bin${seq}`);
  execFileSync('sh', [join(PACKAGE_DIR, 'scripts', 'install.sh'), '--plugin', join(PACKAGE_DIR, 'dist', 'hostnic'), '--node', process.execPath, '--dest', bin, '--link-node']);
  return bin;
}

/** An ADD that finds no agent (code 11): the whole pod path up to the connection runs, no agent is needed. */
async function call(bin: string, command = 'ADD'): Promise<{ code: number; stdout: string }> {
  const config = { cniVersion: '1.1.0', name: 'hostnic', type: 'hostnic', socketPath: join(dir, 'nobody.sock'), spoolDir: join(dir, 'spool') };
  const env = cniEnv({
    command,
    containerId: 'c1',
    netns: '/proc/self/ns/net',
    ifName: 'eth0',
    args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c1',
    path: bin,
  });
  const r = await run([join(bin, 'hostnic')], { env, stdin: JSON.stringify(config) });
  return { code: r.code ?? -1, stdout: r.stdout };
}

const cacheDir = (bin: string): string => join(bin, '.hostnic-cache');
const CACHE_NAME = new RegExp(`^[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8cache$`);

describe('the code cache beside the installed plugin', () => {
  it('is written by the first ADD: one file for this build and this Node, 0600 in a 0700 directory', async () => {
    const bin = install();
    // Other verbs compile little of the pod path: they leave the cache to the first ADD.
    expect((await call(bin, 'STATUS')).code).toBe(1);
    expect((await call(bin, 'VERSION')).code).toBe(0);
    expect(existsSync(cacheDir(bin))).toBe(false);
    const first = await call(bin);
    expect(JSON.parse(first.stdout)).toMatchObject({ code: 11 });
    const files = await readdir(cacheDir(bin));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(CACHE_NAME);
    expect((await stat(cacheDir(bin))).mode & 0o777).toBe(0o700);
    expect((await stat(join(cacheDir(bin), files[0] ?? ''))).mode & 0o777).toBe(0o600);
    // A second call answers the same from the cache and leaves it as it is.
    const before = await readFile(join(cacheDir(bin), files[0] ?? ''));
    expect(await call(bin)).toEqual(first);
    expect((await readFile(join(cacheDir(bin), files[0] ?? ''))).equals(before)).toBe(true);
  });

  it('a damaged cache is compiled past and rewritten; caches of other builds are removed', async () => {
    const bin = install();
    const first = await call(bin);
    const [name = ''] = await readdir(cacheDir(bin));
    const stale = join(cacheDir(bin), `0000000000000000-${process.version}-${process.arch}.v8cache`);
    await writeFile(stale, 'an earlier build');
    await writeFile(join(cacheDir(bin), name), Buffer.alloc(4096, 0x5a));
    expect(await call(bin)).toEqual(first);
    expect(await readdir(cacheDir(bin))).toEqual([name]);
    expect((await readFile(join(cacheDir(bin), name))).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
  });

  it('a cache that cannot be written costs nothing but the cache', async () => {
    const bin = install();
    // A file where the directory should be: mkdir fails.
    await writeFile(cacheDir(bin), 'not a directory');
    const r = await call(bin);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11 });
    expect(r.code).toBe(1);
    expect(await readFile(cacheDir(bin), 'utf8')).toBe('not a directory');
  });
});
