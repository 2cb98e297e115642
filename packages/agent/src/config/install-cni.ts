/**
 * install-cni: puts the plugin, the Node runtime it runs on and the CNI network config on the node. Replaces
 * the Go image's init script (plain `cp`, never atomic, never cleaning up) with the rules of
 * packages/cni-plugin/scripts/install.sh: temp file + rename, runtime before plugin, shebang decided here.
 *
 * Order matters: the runtime first (the plugin's shebang points at it), then the plugin, and the network
 * config last, because a config in the conf dir is what makes kubelet report the node Ready and start
 * calling the plugin.
 */

import { constants } from 'node:fs';
import { access, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { copyFileAtomic, fsyncDir, writeFileAtomic } from './atomic.ts';
import type { WriteOutcome } from './atomic.ts';
import { CONFLIST_NAME, LEGACY_CONF_NAME, isHostnicCniConfig, prepareCniConflist } from './cni-config.ts';
import { InstallCniError, errnoCode } from './errors.ts';
import { onHost } from './paths.ts';
import type { AgentPaths } from './paths.ts';

export const PLUGIN_FILE = 'hostnic';
export const RUNTIME_FILE = 'hostnic-node';
/** Linux reads at most this much of a `#!` line (BINPRM_BUF_SIZE since 5.1; 128 before). */
const MAX_SHEBANG_BYTES = 255;

export type InstallCniPaths = Pick<
  AgentPaths,
  'cniBinDir' | 'cniConfDir' | 'cniConfigSource' | 'pluginBundle' | 'nodeRuntime' | 'hostRoot'
>;

export interface InstallCniOptions {
  /** Overrides paths.hostRoot. */
  hostRoot?: string;
}

export interface InstalledFile {
  /** Where it was written, in this container. */
  path: string;
  /** The same file as the node sees it. */
  nodePath: string;
  outcome: WriteOutcome;
}

export interface InstallCniResult {
  runtime: InstalledFile;
  plugin: InstalledFile;
  config: InstalledFile;
  /** Stale files of ours removed (the legacy .conf). */
  removed: string[];
  warnings: string[];
  /** True when the hostnic-cni content was a single-plugin config wrapped into a conflist. */
  converted: boolean;
}

async function readSource(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = errnoCode(err);
    throw new InstallCniError(
      file,
      `${what} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}`,
      err,
    );
  }
}

/** The bundle with its first line replaced; the bundle's own shebang is a build-time guess. */
export function rewriteShebang(bundle: Buffer, interpreter: string, bundlePath: string): Buffer {
  if (bundle.length < 2 || bundle[0] !== 0x23 || bundle[1] !== 0x21) {
    throw new InstallCniError(
      bundlePath,
      'is not the plugin bundle: it does not start with "#!" (build it with `npm run build` in packages/cni-plugin)',
    );
  }
  const eol = bundle.indexOf(0x0a);
  const rest = eol === -1 ? Buffer.alloc(0) : bundle.subarray(eol + 1);
  return Buffer.concat([Buffer.from(`#!${interpreter}\n`), rest]);
}

/** Validates everything first, so that invalid input writes nothing; then writes runtime, plugin, config. */
export async function installCni(paths: InstallCniPaths, options: InstallCniOptions = {}): Promise<InstallCniResult> {
  const hostRoot = options.hostRoot ?? paths.hostRoot;
  const interpreter = path.posix.join(paths.cniBinDir, RUNTIME_FILE);
  if (!path.isAbsolute(paths.cniBinDir) || /\s/.test(interpreter)) {
    throw new InstallCniError(
      paths.cniBinDir,
      'the CNI bin dir must be an absolute path without blanks: it becomes the plugin\'s "#!" line',
    );
  }
  if (Buffer.byteLength(interpreter) + 2 > MAX_SHEBANG_BYTES) {
    throw new InstallCniError(paths.cniBinDir, `the CNI bin dir is too long for a "#!" line (${MAX_SHEBANG_BYTES} bytes)`);
  }

  const configText = (await readSource(paths.cniConfigSource, 'the hostnic-cni config')).toString('utf8');
  const prepared = prepareCniConflist(configText, paths.cniConfigSource);
  const plugin = rewriteShebang(await readSource(paths.pluginBundle, 'the plugin bundle'), interpreter, paths.pluginBundle);
  try {
    const st = await stat(paths.nodeRuntime);
    if (!st.isFile()) throw new Error('not a regular file');
    await access(paths.nodeRuntime, constants.X_OK);
  } catch (err) {
    throw new InstallCniError(
      paths.nodeRuntime,
      `the Node runtime to install is not an executable file (${errnoCode(err) ?? (err as Error).message}); pass --node-runtime`,
      err,
    );
  }

  const binDir = onHost(hostRoot, paths.cniBinDir);
  const confDir = onHost(hostRoot, paths.cniConfDir);
  const io = async <T>(target: string, what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof InstallCniError) throw err;
      throw new InstallCniError(target, `cannot ${what} (${errnoCode(err) ?? String(err)})`, err);
    }
  };
  await io(binDir, 'create the directory', () => mkdir(binDir, { recursive: true }));
  await io(confDir, 'create the directory', () => mkdir(confDir, { recursive: true }));

  const entry = (dir: string, nodeDir: string, name: string, outcome: WriteOutcome): InstalledFile => ({
    path: path.join(dir, name),
    nodePath: path.posix.join(nodeDir, name),
    outcome,
  });
  const runtimePath = path.join(binDir, RUNTIME_FILE);
  const runtime = entry(binDir, paths.cniBinDir, RUNTIME_FILE, await io(runtimePath, 'install the Node runtime', () =>
    copyFileAtomic(paths.nodeRuntime, runtimePath, 0o755),
  ));
  const pluginPath = path.join(binDir, PLUGIN_FILE);
  const pluginFile = entry(binDir, paths.cniBinDir, PLUGIN_FILE, await io(pluginPath, 'install the plugin', () =>
    writeFileAtomic(pluginPath, plugin, 0o755),
  ));
  const confPath = path.join(confDir, CONFLIST_NAME);
  const config = entry(confDir, paths.cniConfDir, CONFLIST_NAME, await io(confPath, 'write the CNI config', () =>
    writeFileAtomic(confPath, prepared.text, 0o644),
  ));

  // Runtimes load the first file of the conf dir in name order, and "10-hostnic.conf" sorts before
  // "10-hostnic.conflist": a leftover of the Go installer would shadow the new config. Only our own is removed.
  const removed: string[] = [];
  const warnings: string[] = [];
  const legacy = path.join(confDir, LEGACY_CONF_NAME);
  let legacyText: string | undefined;
  try {
    legacyText = await readFile(legacy, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') warnings.push(`${legacy}: cannot be read (${errnoCode(err) ?? String(err)}); left alone`);
  }
  if (legacyText !== undefined) {
    if (isHostnicCniConfig(legacyText)) {
      await io(legacy, 'remove the stale single-plugin config', async () => {
        await unlink(legacy);
        await fsyncDir(confDir);
      });
      removed.push(legacy);
    } else {
      warnings.push(
        `${legacy} is not a hostnic config; left alone, but it sorts before ${CONFLIST_NAME} and may shadow it`,
      );
    }
  }
  return { runtime, plugin: pluginFile, config, removed, warnings, converted: prepared.converted };
}
