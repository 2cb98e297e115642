import { checkChangesets, describeProblem, type ChangesetProblem, type PackageChanges } from './changeset-check.ts';
import { changedSince, isGitWorkTree, releaseBase } from './git.ts';
import { readPendingChangesets } from './pending-changesets.ts';
import { publishedPackages, readWorkspacePackages } from './workspace.ts';

export interface ChangesetCheckReport {
  /** False when `root` is not a git checkout (an unpacked tarball): there is no history to compare. */
  readonly checked: boolean;
  readonly changes: readonly PackageChanges[];
  readonly problems: readonly ChangesetProblem[];
}

/** Runs the changeset check on the repository at `root`. */
export async function runChangesetCheck(root: string): Promise<ChangesetCheckReport> {
  if (!(await isGitWorkTree(root))) return { checked: false, changes: [], problems: [] };
  const workspace = await readWorkspacePackages(root);
  const changes: PackageChanges[] = [];
  for (const pkg of publishedPackages(workspace)) {
    const base = await releaseBase(root, pkg);
    changes.push({ pkg, base: base.description, changed: await changedSince(root, base.ref, pkg.dir) });
  }
  const problems = checkChangesets(changes, await readPendingChangesets(root), workspace);
  return { checked: true, changes, problems };
}

/** `node packages/release/src/check-changesets.ts [root]`: exit 1 when a published package lacks a changeset. */
async function main(): Promise<void> {
  const root = process.argv[2] ?? process.cwd();
  const report = await runChangesetCheck(root);
  if (!report.checked) {
    console.log(`changeset check: ${root} is not a git checkout, nothing to compare against; skipped`);
    return;
  }
  for (const p of report.problems) console.error(`changeset check: ${describeProblem(p)}`);
  if (report.problems.length > 0) process.exit(1);
  console.log(`changeset check: ${report.changes.length} published packages, every change has a changeset`);
}

if (import.meta.main) await main();
