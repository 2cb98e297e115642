import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isolatedEnv, npmEnv } from './env.ts';
import { ReleaseToolError } from './errors.ts';
import type { NodeRuntime } from './node-runtimes.ts';
import { run, type RunResult } from './run.ts';

const require = createRequire(import.meta.url);

/** Refuses a directory below a node_modules folder: Node would resolve packages from there. */
export async function assertNoNodeModulesAbove(dir: string): Promise<void> {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const found = await access(join(d, 'node_modules')).then(() => true, () => false);
    if (found) {
      throw new ReleaseToolError(`${join(d, 'node_modules')} exists above ${dir}: the package test would not be isolated; set TMPDIR elsewhere`);
    }
    if (dirname(d) === d) return;
  }
}

/** `npm pack` of the package directory into `dest`; returns the tarball's path. */
export async function packPackage(packageDir: string, dest: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: packageDir, env: npmEnv() });
  const [entry] = JSON.parse(stdout) as { filename?: unknown }[];
  if (typeof entry?.filename !== 'string') throw new ReleaseToolError(`npm pack in ${packageDir} named no tarball`);
  return join(dest, entry.filename);
}

export interface ConsumerProject {
  readonly dir: string;
  remove(): Promise<void>;
}

/** The version range of @types/node the workspace uses, so the consumer's type check sees the same Node API. */
async function typesNodeSpec(): Promise<string> {
  const json = JSON.parse(await readFile(require.resolve('@types/node/package.json'), 'utf8')) as { version: string };
  return `@types/node@^${json.version.split('.')[0]}`;
}

/**
 * A new ES-module project in the system temp directory with the tarballs installed from disk and their
 * dependencies from the registry, as a user would get them, plus @types/node for the type check.
 */
export async function createConsumerProject(tarballs: readonly string[]): Promise<ConsumerProject> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-consumer-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await assertNoNodeModulesAbove(dir);
    await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    // --prefer-offline: what npm's cache already holds is not revalidated; a clean machine still downloads.
    await run('npm', ['install', '--prefer-offline', ...tarballs, await typesNodeSpec()], {
      cwd: dir,
      env: npmEnv(),
      timeoutMs: 600_000,
    });
    return { dir, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** Runs `file` of the project with the given Node, from the project directory. */
export function runInProject(project: ConsumerProject, runtime: NodeRuntime, file: string, extraEnv: Readonly<Record<string, string>> = {}): Promise<RunResult> {
  return run(runtime.path, [file], { cwd: project.dir, env: isolatedEnv(extraEnv), timeoutMs: 120_000 });
}

/**
 * `tsc --noEmit` over `file` as a strict consumer would compile it: declarations are resolved through the
 * installed packages' `types` conditions (no `@hostnic/source`) and checked too (no skipLibCheck).
 */
export async function typecheckInProject(project: ConsumerProject, file: string): Promise<void> {
  const tsconfig = {
    compilerOptions: {
      target: 'es2023', lib: ['es2023'], module: 'nodenext', moduleResolution: 'nodenext', strict: true,
      noEmit: true, types: ['node'], allowImportingTsExtensions: true, skipLibCheck: false,
    },
    files: [file],
  };
  await writeFile(join(project.dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project.dir, env: isolatedEnv() });
}
