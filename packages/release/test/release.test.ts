import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runChangesetCheck } from '../src/check-changesets.ts';
import { git } from '../src/git.ts';
import { cutRelease, formatReleasePlan, releasePlan } from '../src/release.ts';
import { createFixtureRepo, type FixtureRepo } from './fixture-repo.ts';

let repo: FixtureRepo;
beforeEach(async () => {
  repo = await createFixtureRepo();
  await repo.write('packages/lib/src/index.ts', 'export const a = 2;\n');
  await repo.write('.changeset/lib-a.md', '---\n"@fx/lib": minor\n---\n\nA is two now.\n');
  await repo.commit('lib: a = 2');
});
afterEach(async () => {
  await repo.remove();
});

it('the dry run shows the next versions and writes nothing', async () => {
  const plan = await releasePlan(repo.root);
  expect(formatReleasePlan(plan)).toBe('@fx/lib: 1.0.0 -> 1.1.0 (minor)');
  expect(await git(repo.root, ['status', '--porcelain'])).toBe('');
});

it('a release versions only the packages named, writes their CHANGELOG, commits and tags', { timeout: 120_000 }, async () => {
  const plan = await cutRelease(repo.root);
  expect(plan.map((r) => `${r.name}@${r.newVersion}`)).toEqual(['@fx/lib@1.1.0']);
  const lib = JSON.parse(await readFile(join(repo.root, 'packages/lib/package.json'), 'utf8')) as { version: string };
  const other = JSON.parse(await readFile(join(repo.root, 'packages/other/package.json'), 'utf8')) as { version: string };
  expect([lib.version, other.version]).toEqual(['1.1.0', '1.0.0']);
  const changelog = await readFile(join(repo.root, 'packages/lib/CHANGELOG.md'), 'utf8');
  expect(changelog).toMatch(/## 1\.1\.0\s+### Minor Changes\s+- [0-9a-f]{7}: A is two now\./);
  expect((await git(repo.root, ['tag', '--list'])).trim().split('\n')).toEqual(['@fx/lib@1.1.0']);
  expect(await git(repo.root, ['status', '--porcelain'])).toBe('');
  expect(formatReleasePlan(await releasePlan(repo.root))).toBe('no pending changesets: nothing to release');

  // The next change counts from the new tag.
  expect((await runChangesetCheck(repo.root)).problems).toEqual([]);
  await repo.write('packages/lib/src/index.ts', 'export const a = 3;\n');
  expect((await runChangesetCheck(repo.root)).problems).toMatchObject([{ kind: 'missing', pkg: '@fx/lib', base: 'tag @fx/lib@1.1.0' }]);
});

it('refuses to release from a dirty working tree', async () => {
  await repo.write('packages/lib/src/index.ts', 'export const a = 3;\n');
  await expect(cutRelease(repo.root)).rejects.toThrow('uncommitted changes');
});
