import { access, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { npmEnv } from './env.ts';
import { ReleaseToolError } from './errors.ts';
import { run } from './run.ts';

/**
 * The Node.js 22 the package test runs on: the oldest release the libraries accept (undici needs 22.19),
 * so the lower bound of `engines` is what is tested. Node 24 is the workspace's pinned `node`.
 */
export const NODE22_VERSION = '22.19.0';
/** The `engines.node` of every published package: the two lines the package test runs on. */
export const TESTED_ENGINES = `^${NODE22_VERSION} || ^24.0.0`;

export interface NodeRuntime {
  readonly label: string;
  readonly path: string;
}

/** Where downloaded runtimes are kept between runs, also across clean clones on one machine. */
export function runtimeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(base, 'hostnic', 'node');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function versionOf(path: string): Promise<string> {
  return (await run(path, ['--version'], { cwd: '/' })).stdout.trim();
}

/**
 * Node 22 from the npm registry's `node` package (which fetches the platform's binary), installed once
 * into the cache directory and reused; a cached copy that does not answer its version is installed again.
 */
export async function node22(cacheDir: string = runtimeCacheDir()): Promise<NodeRuntime> {
  const dir = join(cacheDir, NODE22_VERSION);
  const path = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!((await exists(path)) && (await versionOf(path).catch(() => '')) === `v${NODE22_VERSION}`)) {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      `${JSON.stringify({ private: true, dependencies: { node: NODE22_VERSION }, allowScripts: { node: true } }, null, 2)}\n`,
    );
    await run('npm', ['install', '--no-save'], { cwd: dir, env: npmEnv(), timeoutMs: 600_000 });
    const got = await versionOf(path);
    if (got !== `v${NODE22_VERSION}`) {
      throw new ReleaseToolError(`${path} answers ${got} after installing node@${NODE22_VERSION}: remove ${dir} and retry`);
    }
  }
  return { label: `node ${NODE22_VERSION}`, path };
}

/** Node 24: the runtime this test runs on, which npm scripts take from the workspace's `node` devDependency. */
export function node24(): NodeRuntime {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 24) {
    throw new ReleaseToolError(`the package test runs under Node ${process.version}, not 24: run it through npm (npm test)`);
  }
  return { label: `node ${process.versions.node}`, path: process.execPath };
}
