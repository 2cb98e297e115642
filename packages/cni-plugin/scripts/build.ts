/**
 * Bundles the plugin into one executable file, dist/hostnic: a CommonJS bundle (modules loaded on demand
 * stay unevaluated until a verb needs them, builtins included), embedded as a string in a small launcher
 * that compiles it with V8's code cache (src/launcher.ts), behind a shebang naming the Node runtime that
 * the install step puts beside it. `node scripts/build.ts [--interpreter PATH] [--outfile PATH]`.
 */

import { build } from 'esbuild';
import type { BuildOptions as EsbuildOptions, Message, OutputFile } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUTFILE = join(PACKAGE_DIR, 'dist', 'hostnic');
/** Where the install step puts the runtime; it rewrites the shebang when it installs elsewhere. */
export const DEFAULT_INTERPRETER = '/opt/cni/bin/hostnic-node';

export interface BuildOptions {
  outfile?: string;
  interpreter?: string;
  minify?: boolean;
}

export interface BuildOutput {
  outfile: string;
  bytes: number;
}

function outputOf(result: { errors: Message[]; warnings: Message[]; outputFiles?: OutputFile[] }): string {
  if (result.errors.length > 0 || result.warnings.length > 0) {
    throw new Error(`esbuild: ${[...result.errors, ...result.warnings].map((m) => m.text).join('; ')}`);
  }
  const code = result.outputFiles?.[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no output');
  return code;
}

async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export async function buildPlugin(options: BuildOptions = {}): Promise<BuildOutput> {
  const outfile = options.outfile ?? DEFAULT_OUTFILE;
  const interpreter = options.interpreter ?? DEFAULT_INTERPRETER;
  if (!interpreter.startsWith('/') || /\s/.test(interpreter)) {
    throw new Error(`interpreter must be an absolute path without blanks, not ${JSON.stringify(interpreter)}`);
  }
  const common: EsbuildOptions & { write: false } = {
    absWorkingDir: PACKAGE_DIR,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    conditions: ['@hostnic/source'],
    minify: options.minify ?? true,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  };
  const plugin = outputOf(await build({ ...common, entryPoints: ['src/main.ts'] }));
  // The plugin goes into the launcher as a string that it compiles with V8's code cache (src/launcher.ts).
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${plugin}\n})`;
  const key = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  const code = outputOf(
    await build({
      ...common,
      entryPoints: ['src/launcher.ts'],
      define: { HOSTNIC_BUNDLE: JSON.stringify(wrapped), HOSTNIC_BUNDLE_KEY: JSON.stringify(key) },
    }),
  );
  const text = `#!${interpreter}\n${code}`;
  await mkdir(dirname(outfile), { recursive: true });
  await writeAtomically(outfile, text, 0o755);
  // The bundle is CommonJS and has no extension: without this, the package's "type": "module" would make
  // Node read dist/hostnic as an ES module. Installed copies have no package.json above them.
  await writeAtomically(join(dirname(outfile), 'package.json'), '{ "type": "commonjs" }\n', 0o644);
  return { outfile, bytes: Buffer.byteLength(text) };
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.main) {
  const out = await buildPlugin({ outfile: flag('--outfile'), interpreter: flag('--interpreter') });
  console.log(`built ${out.outfile} (${(out.bytes / 1024).toFixed(1)} KiB)`);
}
