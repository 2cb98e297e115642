import { GitError } from './errors.ts';
import { run } from './run.ts';
import type { WorkspacePackage } from './workspace.ts';

/** Runs git in `cwd` and returns its stdout; a failure becomes a GitError with git's own message. */
export async function git(cwd: string, args: readonly string[]): Promise<string> {
  try {
    return (await run('git', args, { cwd })).stdout;
  } catch (e) {
    throw new GitError((e as Error).message);
  }
}

export async function isGitWorkTree(cwd: string): Promise<boolean> {
  try {
    return (await git(cwd, ['rev-parse', '--is-inside-work-tree'])).trim() === 'true';
  } catch {
    return false;
  }
}

/** The name changesets gives a package's release tag: `@hostnic/ipam@0.2.0`. */
export function releaseTag(pkg: Pick<WorkspacePackage, 'name' | 'version'>): string {
  return `${pkg.name}@${pkg.version}`;
}

function versionOf(packageJson: string): string | undefined {
  try {
    const v = (JSON.parse(packageJson) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // a broken package.json in some old commit is simply not this version
  }
}

/**
 * Where the package's current version was released, found without a remote (CI runs on a clean clone
 * that has none): the release tag if the clone has it, else the oldest commit of the unbroken run of
 * commits, counted back from HEAD, whose package.json carries the current version: the release commit
 * that `npm run release` made, or the commit that created the package. Shallow clones may lack that
 * commit; they are refused rather than compared against an arbitrary graft.
 */
export interface ReleaseBase {
  /** What git diffs against: a tag, a commit, or the empty tree. */
  readonly ref: string;
  /** For messages: `tag @hostnic/ipam@0.2.0`, `commit 1a2b3c4d5e6f`, `its creation`. */
  readonly description: string;
}

export async function releaseBase(root: string, pkg: WorkspacePackage): Promise<ReleaseBase> {
  const tag = releaseTag(pkg);
  const tagged = (await git(root, ['tag', '--list', tag])).trim();
  if (tagged === tag) return { ref: tag, description: `tag ${tag}` };
  if ((await git(root, ['rev-parse', '--is-shallow-repository'])).trim() === 'true') {
    throw new GitError(`${root} is a shallow clone: the changeset check needs the history back to the commit that set ${tag}; clone without --depth`);
  }
  const file = `${pkg.dir}/package.json`;
  const commits = (await git(root, ['log', '--format=%H', '--', file])).split('\n').filter((l) => l !== '');
  let base: string | undefined;
  for (const commit of commits) {
    const text = await git(root, ['show', `${commit}:${file}`]).catch(() => undefined);
    if (text === undefined || versionOf(text) !== pkg.version) break;
    base = commit;
  }
  if (base !== undefined) return { ref: base, description: `commit ${base.slice(0, 12)} (version ${pkg.version})` };
  // No commit has it yet: the package or its version is new in the working tree, so all of it is pending.
  return { ref: await emptyTree(root), description: 'its creation' };
}

async function emptyTree(root: string): Promise<string> {
  return (await git(root, ['hash-object', '-t', 'tree', '/dev/null'])).trim();
}

/** Paths under `dir` (relative to it) that differ from `base`: commits, staged and unstaged edits, new files. */
export async function changedSince(root: string, base: string, dir: string): Promise<string[]> {
  const tracked = await git(root, ['diff', '--name-only', '--no-renames', base, '--', dir]);
  const untracked = await git(root, ['ls-files', '--others', '--exclude-standard', '--', dir]);
  const prefix = `${dir}/`;
  const paths = new Set(
    `${tracked}\n${untracked}`.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)),
  );
  return [...paths].sort();
}
