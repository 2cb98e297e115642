import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git } from '../src/git.ts';

/** The hostnic repository this test runs in; fixtures borrow its node_modules for the changesets CLI. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface FixtureRepo {
  readonly root: string;
  write(path: string, text: string): Promise<void>;
  commit(message: string): Promise<string>;
  remove(): Promise<void>;
}

/**
 * A throwaway git repository shaped like hostnic: a root package.json with workspaces, published `lib`
 * and `other` at 1.0.0, a private `app`, the changesets config, and no remote (as CI's clean clone).
 */
export async function createFixtureRepo(): Promise<FixtureRepo> {
  const root = await mkdtemp(join(tmpdir(), 'hostnic-release-fixture-'));
  const write = async (path: string, text: string): Promise<void> => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  const json = (o: object): string => `${JSON.stringify(o, null, 2)}\n`;
  await write('package.json', json({ name: 'fixture', private: true, workspaces: ['packages/*'] }));
  await write('.gitignore', 'node_modules\n');
  await write('.changeset/config.json', json({
    changelog: '@changesets/cli/changelog', commit: false, fixed: [], linked: [], access: 'public',
    baseBranch: 'main', updateInternalDependencies: 'patch', ignore: [],
    privatePackages: { version: false, tag: false },
  }));
  await write('.changeset/README.md', '# Changesets\n');
  for (const name of ['lib', 'other']) {
    await write(`packages/${name}/package.json`, json({ name: `@fx/${name}`, version: '1.0.0' }));
    await write(`packages/${name}/src/index.ts`, 'export const a = 1;\n');
    await write(`packages/${name}/CHANGELOG.md`, `# @fx/${name}\n`);
  }
  await write('packages/app/package.json', json({ name: '@fx/app', version: '0.1.0', private: true }));
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  await git(root, ['init', '--quiet', '--initial-branch=main']);
  await git(root, ['config', 'user.email', 'fixture@example.invalid']);
  await git(root, ['config', 'user.name', 'fixture']);
  const commit = async (message: string): Promise<string> => {
    await git(root, ['add', '--all']);
    await git(root, ['commit', '--quiet', '--allow-empty', '-m', message]);
    return (await git(root, ['rev-parse', 'HEAD'])).trim();
  };
  await commit('initial');
  return { root, write, commit, remove: () => rm(root, { recursive: true, force: true }) };
}
