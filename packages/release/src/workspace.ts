import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReleaseToolError } from './errors.ts';

export interface WorkspacePackage {
  readonly name: string;
  /** Directory relative to the repository root, with forward slashes (`packages/ipam`). */
  readonly dir: string;
  readonly version: string;
  readonly private: boolean;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  private?: unknown;
  workspaces?: unknown;
}

async function readPackageJson(path: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path, 'utf8')) as PackageJson;
}

/** The workspace packages of the repository at `root` (patterns `dir/*` and plain directories). */
export async function readWorkspacePackages(root: string): Promise<WorkspacePackage[]> {
  const rootJson = await readPackageJson(join(root, 'package.json'));
  const patterns = rootJson.workspaces;
  if (!Array.isArray(patterns) || !patterns.every((p): p is string => typeof p === 'string')) {
    throw new ReleaseToolError(`${join(root, 'package.json')}: "workspaces" must be an array of strings`);
  }
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      const entries = await readdir(join(root, parent), { withFileTypes: true });
      for (const e of entries) if (e.isDirectory()) dirs.push(`${parent}/${e.name}`);
    } else if (!pattern.includes('*')) {
      dirs.push(pattern);
    } else {
      throw new ReleaseToolError(`workspace pattern ${JSON.stringify(pattern)} is not supported: use "dir/*" or a path`);
    }
  }
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs.sort()) {
    let json: PackageJson;
    try {
      json = await readPackageJson(join(root, dir, 'package.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // a directory that is not a package
      throw e;
    }
    if (typeof json.name !== 'string' || typeof json.version !== 'string') {
      throw new ReleaseToolError(`${dir}/package.json: "name" and "version" must be strings`);
    }
    packages.push({ name: json.name, dir, version: json.version, private: json.private === true });
  }
  return packages;
}

/** The packages that are released to the registry: every workspace package not marked private. */
export function publishedPackages(packages: readonly WorkspacePackage[]): WorkspacePackage[] {
  return packages.filter((p) => !p.private);
}
