/**
 * The first code of the installed plugin: compiles the plugin (embedded by scripts/build.ts as one string,
 * a CommonJS function) with V8's code cache, kept beside the plugin, and runs it.
 *
 * Every pod start runs the plugin in a new process, and compiling its 100 KB again each time was a large
 * part of what the plugin cost beyond Node's own start. The cache holds the compiled code of what ran
 * (lazily compiled functions included), so a warm call compiles next to nothing.
 *
 * The cache is an optimisation only: it is written by the first ADD of a plugin build on a Node version
 * (its name carries both, because V8 checks a cache against the source's length, not its content), any failure
 * to read or write it is silent, and a cache V8 rejects is compiled past and rewritten. It lives in the
 * plugin's own directory, made by root with mode 0700: whoever could change it could change the plugin.
 */

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The plugin bundle, `(function (exports, require, module, __filename, __dirname) {...})`. */
declare const HOSTNIC_BUNDLE: string;
/** A digest of HOSTNIC_BUNDLE. */
declare const HOSTNIC_BUNDLE_KEY: string;

type BundleFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

const CACHE_DIR_NAME = '.hostnic-cache';
const CACHE_SUFFIX = '.v8cache';

/** The cache file of this build on this Node. */
function cacheFileName(key: string, nodeVersion: string, arch: string): string {
  return `${key}-${nodeVersion}-${arch}${CACHE_SUFFIX}`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written under a temporary name and renamed: a plugin starting meanwhile reads the old cache or the new one. */
function writeCache(dir: string, name: string, data: Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `${name}.${process.pid}.tmp`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, join(dir, name));
    // Caches of earlier builds or Node versions are never read again.
    for (const other of readdirSync(dir)) {
      if (other !== name && other.endsWith(CACHE_SUFFIX)) rmSync(join(dir, other), { force: true });
    }
  } catch {
    // Not writable (a read-only bin dir): every call compiles, as without a cache.
  }
}

function launch(): void {
  const self = process.argv[1] ?? __filename;
  const dir = join(dirname(self), CACHE_DIR_NAME);
  const name = cacheFileName(HOSTNIC_BUNDLE_KEY, process.version, process.arch);
  const cachedData = readCache(join(dir, name));
  const script = new Script(HOSTNIC_BUNDLE, { filename: self, cachedData });
  // By an ADD, at exit, so that the cache holds the functions of the pod path (a runtime's first call is often
  // VERSION, which compiles little of it); the plugin ends with process.exit, which runs 'exit' listeners.
  if ((cachedData === undefined || script.cachedDataRejected === true) && process.env['CNI_COMMAND'] === 'ADD') {
    process.once('exit', () => writeCache(dir, name, script.createCachedData()));
  }
  const bundle = script.runInThisContext() as BundleFunction;
  bundle(module.exports, require, module, self, dirname(self));
}

launch();
