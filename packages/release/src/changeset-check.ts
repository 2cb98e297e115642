import type { Changeset } from './changeset-file.ts';
import type { WorkspacePackage } from './workspace.ts';

/**
 * Files of a package that never reach its users: tests, benches, the typecheck-only tsconfig and the
 * CHANGELOG that the release itself writes. A change elsewhere (sources, package.json, README, build config)
 * changes what is published and needs a changeset.
 */
const UNSHIPPED = [/^test\//, /^bench\//, /^vitest\.config\.[cm]?[jt]s$/, /^tsconfig\.json$/, /^CHANGELOG\.md$/];

/** Whether a path relative to the package directory changes what the package publishes. */
export function isShippedPath(relativePath: string): boolean {
  return !UNSHIPPED.some((re) => re.test(relativePath));
}

export interface PackageChanges {
  readonly pkg: WorkspacePackage;
  /** What the changes are counted from, for messages: the release tag or the commit that set the version. */
  readonly base: string;
  /** Changed paths relative to the package directory since `base`, working tree included. */
  readonly changed: readonly string[];
}

export type ChangesetProblem =
  | { readonly kind: 'missing'; readonly pkg: string; readonly base: string; readonly files: readonly string[] }
  | { readonly kind: 'unknown-package'; readonly file: string; readonly pkg: string }
  | { readonly kind: 'private-package'; readonly file: string; readonly pkg: string };

/**
 * Compares what changed in each published package with the pending changesets. A package that changed
 * without a changeset naming it is a problem; so is a changeset that names a package that is not published.
 */
export function checkChangesets(
  changes: readonly PackageChanges[],
  changesets: readonly Changeset[],
  workspace: readonly WorkspacePackage[],
): ChangesetProblem[] {
  const problems: ChangesetProblem[] = [];
  const named = new Set(changesets.flatMap((c) => [...c.releases.keys()]));
  for (const { pkg, base, changed } of changes) {
    const shipped = changed.filter(isShippedPath);
    if (shipped.length > 0 && !named.has(pkg.name)) problems.push({ kind: 'missing', pkg: pkg.name, base, files: shipped });
  }
  const byName = new Map(workspace.map((p) => [p.name, p]));
  for (const c of changesets) {
    for (const name of c.releases.keys()) {
      const pkg = byName.get(name);
      if (!pkg) problems.push({ kind: 'unknown-package', file: c.file, pkg: name });
      else if (pkg.private) problems.push({ kind: 'private-package', file: c.file, pkg: name });
    }
  }
  return problems;
}

const MAX_FILES_SHOWN = 5;

/** One line per problem, each saying what to do. */
export function describeProblem(p: ChangesetProblem): string {
  switch (p.kind) {
    case 'missing': {
      const shown = p.files.slice(0, MAX_FILES_SHOWN).join(', ');
      const more = p.files.length > MAX_FILES_SHOWN ? ` and ${p.files.length - MAX_FILES_SHOWN} more` : '';
      return `${p.pkg} changed since ${p.base} (${shown}${more}) but no pending changeset names it: ` +
        'run "npx changeset", pick the package and the bump, and commit the file it writes under .changeset/';
    }
    case 'unknown-package':
      return `.changeset/${p.file} names ${p.pkg}, which is not a package of this workspace: fix the name`;
    case 'private-package':
      return `.changeset/${p.file} names ${p.pkg}, which is private (versioned with the image): remove it from the file`;
  }
}
