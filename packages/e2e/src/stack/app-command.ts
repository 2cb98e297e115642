/**
 * How the stack starts `hostnic-agent` and `hostnic-controller`: from their TypeScript sources (what tests run,
 * no build needed) or from the esbuild bundles the image ships (what a bench measures, so that start-up, RSS
 * and the pod path's figures are those of the deployed code).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** `source`: `node --conditions=@hostnic/source src/cli.ts`; `bundle`: `node dist/bundle/<name>.mjs`. */
export type AppMode = 'source' | 'bundle';

export type App = 'agent' | 'controller';

const resolvePackage = createRequire(import.meta.url).resolve;
export const AGENT_CLI = resolvePackage('@hostnic/agent/cli');
export const CONTROLLER_CLI = resolvePackage('@hostnic/controller/cli');

const APPS: Readonly<Record<App, { readonly cli: string; readonly bundleName: string }>> = {
  agent: { cli: AGENT_CLI, bundleName: 'hostnic-agent' },
  controller: { cli: CONTROLLER_CLI, bundleName: 'hostnic-controller' },
};

/** The package directory of an app: its `cli` export is `<package>/src/cli.ts`. */
function packageDirOf(app: App): string {
  return dirname(dirname(APPS[app].cli));
}

/** dist/bundle/<name>.mjs of the app, as `npx turbo run build` (the package's `build` script) writes it. */
export function bundlePath(app: App): string {
  return join(packageDirOf(app), 'dist/bundle', `${APPS[app].bundleName}.mjs`);
}

/** Thrown when a bundle the stack should run has not been built. */
export class BundleNotBuiltError extends Error {
  override readonly name = 'BundleNotBuiltError';
}

/**
 * The app's bundle, which must exist. Whether it is up to date with the sources is turbo's to know (its
 * cache may restore a bundle with a new mtime): `npm run bench` runs `turbo run build` first.
 * @throws BundleNotBuiltError naming the command that builds it
 */
export function checkBundle(app: App, path: string = bundlePath(app)): string {
  if (!existsSync(path)) throw new BundleNotBuiltError(`${app} bundle ${path} is missing: run \`npx turbo run build\` at the repository root`);
  return path;
}

/** The argv prefix that runs the app's command line in `mode` with this Node (`process.execPath`). */
export function appCommand(app: App, mode: AppMode): string[] {
  return mode === 'bundle' ? [process.execPath, bundlePath(app)] : [process.execPath, '--conditions=@hostnic/source', APPS[app].cli];
}

/**
 * Node flags a command running TypeScript sources cannot take: Node strips types with a WebAssembly module,
 * and `--jitless` (the agent's, deploy/base/daemonset.yaml) turns WebAssembly off.
 */
const BUNDLE_ONLY_FLAGS: ReadonlySet<string> = new Set(['--jitless']);

/**
 * The deployed NODE_OPTIONS as `argv` can run with them: all of them for a bundle (what the image runs), without
 * the bundle-only flags when `argv` runs a .ts file or the options preload one (`--import=x.ts`, e.g. the
 * bench's stall probe).
 */
export function nodeOptionsFor(argv: readonly string[], options: string | undefined): string | undefined {
  if (options === undefined) return options;
  const flags = options.split(/\s+/).filter((o) => o !== '');
  const runsTs = argv.some((a) => a.endsWith('.ts')) || flags.some((o) => o.startsWith('--import=') && o.endsWith('.ts'));
  return runsTs ? flags.filter((o) => !BUNDLE_ONLY_FLAGS.has(o)).join(' ') : options;
}
