/**
 * Environments for the child processes of the package test. Examples and bundles get only what a user's
 * shell would have; npm gets the caller's environment (proxies, CA certificates, its config) minus what
 * would tie it to this workspace.
 */

/** Variables that would lead module resolution or npm back into the workspace. */
function tiedToWorkspace(key: string): boolean {
  // npm run exports npm_config_*, npm_package_*, npm_lifecycle_* and INIT_CWD describing this workspace.
  return key.startsWith('npm_') || key === 'INIT_CWD' || key === 'NODE_OPTIONS' || key === 'NODE_PATH';
}

/**
 * For examples and bundles: no NODE_OPTIONS (no `--conditions=@hostnic/source`), no NODE_PATH, nothing that
 * could lead module resolution back into the workspace.
 */
export function isolatedEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...extra };
}

/** For npm installing from the registry in a directory outside the workspace. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!tiedToWorkspace(k)) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
}
