/**
 * Bundles one command (agent, controller, hostnic-iaas) into dist/bundle/<name>.mjs, runnable with nothing from
 * the workspace: every dependency is inlined except lmdb, whose native addon cannot be, so lmdb and the
 * packages it loads at run time are copied beside the bundle in dist/bundle/node_modules.
 *
 *   node ../../scripts/bundle-app.ts --entry src/cli.ts --name hostnic-agent [--native lmdb]
 *
 * Run from a package directory (each package's `build` script does).
 */

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinModulesPlugin } from './builtin-modules-plugin.ts';

export interface BundleOptions {
  /** The package directory; entry and output resolve against it. */
  packageDir: string;
  entry: string;
  name: string;
  /** Packages left out of the bundle and copied beside it with what they load at run time. */
  native: readonly string[];
  /** Where the bundle goes; dist/bundle of the package by default. Emptied first. */
  outdir?: string;
}

export interface BundleOutput {
  outfile: string;
  bytes: number;
  /** The packages copied into dist/bundle/node_modules, by name. */
  copied: string[];
  /** Every source file esbuild put into the bundle, relative to the package directory (its metafile). */
  inputs: string[];
}

/**
 * Listed as dependencies but never loaded at run time: node-addon-api only holds the C++ headers the addon
 * was compiled against. Measured by running the agent's datastore from the bundle without it.
 */
const BUILD_TIME_ONLY = new Set(['node-addon-api']);

/**
 * CommonJS code in an ESM bundle calls require(); ESM has no require, so give it one (taken from the
 * CommonJS object of node:module for the reason given in builtin-modules-plugin.ts).
 */
const REQUIRE_SHIM = "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);";

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The revision the bundle is built from: HOSTNIC_REVISION when set (a build without .git, like the
 * Dockerfile's, passes it in), else git's short commit id with `-dirty` when tracked files differ from it,
 * else none. A bundle that turbo replays from its cache keeps the revision it was first built at, which
 * built the same sources.
 */
export function sourceRevision(dir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env['HOSTNIC_REVISION'];
  if (given !== undefined && given !== '') return given;
  const git = (args: string[]): { ok: boolean; out: string } => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    return { ok: r.status === 0, out: (r.stdout ?? '').trim() };
  };
  const head = git(['rev-parse', '--short=12', 'HEAD']);
  if (!head.ok || head.out === '') return undefined;
  return git(['diff', '--quiet', 'HEAD', '--']).ok ? head.out : `${head.out}-dirty`;
}

async function readPackage(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Where `name` is installed as seen from `fromDir`, or undefined when it is not (an optional dependency). */
function packageDirOf(name: string, fromDir: string): string | undefined {
  const req = createRequire(join(fromDir, 'package.json'));
  for (const base of req.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    try {
      req.resolve(join(dir, 'package.json'));
      return dir;
    } catch {
      // not in this node_modules; try the next one up
    }
  }
  return undefined;
}

/**
 * The run-time closure of `roots`: their dependencies and the optional ones installed here (the platform's
 * prebuilt addon is one), without the build-time-only packages.
 */
export async function runtimeClosure(roots: readonly string[], fromDir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const queue: { name: string; from: string }[] = roots.map((name) => ({ name, from: fromDir }));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (found.has(next.name) || BUILD_TIME_ONLY.has(next.name)) continue;
    const dir = packageDirOf(next.name, next.from);
    if (dir === undefined) {
      if (roots.includes(next.name)) throw new Error(`--native ${next.name}: not installed; run npm ci first`);
      continue;
    }
    found.set(next.name, dir);
    const pkg = await readPackage(dir);
    for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]) {
      queue.push({ name: dep, from: dir });
    }
  }
  return found;
}

/**
 * Prebuilt addons for ABIs this Node is not: a prebuilt package ships one file per Node ABI and libc, and the
 * loader takes this Node's ABI first, else the N-API build for glibc.
 */
function unusedAddon(file: string): boolean {
  if (!file.endsWith('.node')) return false;
  if (file.includes('musl')) return true;
  const abi = /\.abi(\d+)\./.exec(file)?.[1];
  return abi !== undefined && abi !== process.versions.modules;
}

async function copyPackage(from: string, to: string): Promise<void> {
  await cp(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) => {
      const rel = src.slice(from.length);
      // Sources, docs and type declarations stay behind: only what `node` loads goes in the image.
      return !/\/(src|dependencies|test|tests|benchmark|bin|\.github)(\/|$)/.test(rel)
        && !/\.(d\.ts|d\.cts|md|map|gyp|cc|cpp|h)$/.test(rel)
        && !unusedAddon(rel);
    },
  });
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

export async function bundleApp(options: BundleOptions): Promise<BundleOutput> {
  if (!/^[a-z][a-z0-9-]*$/.test(options.name)) throw new Error(`--name must be a command name like hostnic-agent, not ${JSON.stringify(options.name)}`);
  const outdir = options.outdir ?? join(options.packageDir, 'dist', 'bundle');
  const outfile = join(outdir, `${options.name}.mjs`);
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: options.packageDir,
    entryPoints: [options.entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    conditions: ['@hostnic/source'],
    external: [...options.native],
    plugins: [builtinModulesPlugin()],
    banner: { js: REQUIRE_SHIM },
    // What `--version` prints beside the package version (@hostnic/runtime's version.ts reads it).
    define: { __HOSTNIC_REVISION__: JSON.stringify(sourceRevision(options.packageDir) ?? '') },
    // keepNames: function and class names survive minifying, so stack traces and error names still read.
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length > 0 || result.warnings.length > 0) {
    throw new Error(`esbuild: ${[...result.errors, ...result.warnings].map((m) => m.text).join('; ')}`);
  }
  await chmod(outfile, 0o755);
  const closure = await runtimeClosure(options.native, options.packageDir);
  for (const [name, dir] of closure) await copyPackage(dir, join(outdir, 'node_modules', name));
  return { outfile, bytes: await sizeOf(outdir), copied: [...closure.keys()].sort(), inputs: Object.keys(result.metafile.inputs).sort() };
}

/** Bundles into a fresh temp dir (tests run the result from there); remove() deletes it. */
export async function bundleToTemp(options: Omit<BundleOptions, 'outdir'>): Promise<BundleOutput & { dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${options.name}-bundle-`));
  const out = await bundleApp({ ...options, outdir: dir });
  return { ...out, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface IsolatedRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <args>` in `dir` as the image would: an environment holding only PATH (no NODE_PATH, no
 * NODE_OPTIONS from a test runner) and a working directory outside the workspace, so nothing resolves there.
 */
export function runIsolated(dir: string, args: readonly string[]): IsolatedRun {
  const r = spawnSync(process.execPath, [...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      entry: { type: 'string' },
      name: { type: 'string' },
      native: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.entry === undefined || values.name === undefined) {
    throw new Error('usage: bundle-app.ts --entry src/cli.ts --name hostnic-agent [--native lmdb]');
  }
  const packageDir = process.cwd();
  const out = await bundleApp({ packageDir, entry: values.entry, name: values.name, native: values.native });
  const extra = out.copied.length > 0 ? ` with ${out.copied.join(', ')}` : '';
  console.log(`built ${out.outfile}${extra} (${(out.bytes / 1024 / 1024).toFixed(1)} MiB)`);
}
