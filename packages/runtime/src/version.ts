/**
 * The version a command prints: the package's, and the git revision when the build recorded one. The
 * bundler (scripts/bundle-app.ts) replaces the identifier below with the revision's text; run from sources
 * the identifier is never declared, and `typeof` of an undeclared name is 'undefined', not an error.
 */
declare const __HOSTNIC_REVISION__: string | undefined;

/** The revision the bundle was built from, e.g. `1a2b3c4d5e6f` or `1a2b3c4d5e6f-dirty`; undefined from sources. */
export function buildRevision(): string | undefined {
  return typeof __HOSTNIC_REVISION__ === 'string' && __HOSTNIC_REVISION__ !== '' ? __HOSTNIC_REVISION__ : undefined;
}

/** `0.1.0`, or `0.1.0 (revision 1a2b3c4d5e6f)` from a bundle built in a git checkout. */
export function versionText(packageVersion: string, revision: string | undefined = buildRevision()): string {
  return revision === undefined ? packageVersion : `${packageVersion} (revision ${revision})`;
}
