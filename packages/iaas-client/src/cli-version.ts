/**
 * What `hostnic-iaas --version` prints: the package version, and the git revision when the bundle recorded
 * one (scripts/bundle-app.ts replaces the identifier below; from sources or tsc's output it is undeclared,
 * and `typeof` of an undeclared name is 'undefined', not an error).
 */
import pkg from '../package.json' with { type: 'json' };

declare const __HOSTNIC_REVISION__: string | undefined;

export function cliVersion(): string {
  const revision = typeof __HOSTNIC_REVISION__ === 'string' ? __HOSTNIC_REVISION__ : '';
  return revision === '' ? pkg.version : `${pkg.version} (revision ${revision})`;
}
