import { execFile } from 'node:child_process';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isShippedPath } from '../src/changeset-check.ts';
import { runChangesetCheck } from '../src/check-changesets.ts';
import { GitError } from '../src/errors.ts';
import { git, releaseBase } from '../src/git.ts';
import { createFixtureRepo, type FixtureRepo } from './fixture-repo.ts';

const execFileAsync = promisify(execFile);
const LIB = { name: '@fx/lib', dir: 'packages/lib', version: '1.0.0', private: false };
const changeset = (body: string): string => `---\n${body}\n---\n\nA change.\n`;

it('counts sources, package.json and README as shipped; tests, benches and the CHANGELOG not', () => {
  expect(['src/a.ts', 'package.json', 'README.md', 'tsconfig.build.json'].filter(isShippedPath)).toHaveLength(4);
  expect(['test/a.test.ts', 'bench/run.ts', 'CHANGELOG.md', 'tsconfig.json', 'vitest.config.ts'].filter(isShippedPath))
    .toHaveLength(0);
});

describe('the changeset check on a clone without a remote', () => {
  let repo: FixtureRepo;
  beforeEach(async () => {
    repo = await createFixtureRepo();
  });
  afterEach(async () => {
    await repo.remove();
  });

  it('passes when nothing shipped changed, whatever changed in tests or in private packages', async () => {
    await repo.write('packages/lib/test/a.test.ts', '// more tests\n');
    await repo.write('packages/app/src/main.ts', 'export {};\n');
    await repo.commit('tests and app');
    const report = await runChangesetCheck(repo.root);
    expect(report.checked).toBe(true);
    expect(report.changes).toHaveLength(2);
    expect(report.problems).toEqual([]);
  });

  it('fails on a committed, an uncommitted or an untracked change to a published package without a changeset', async () => {
    await repo.write('packages/lib/src/index.ts', 'export const a = 2;\n');
    await repo.commit('lib: a = 2');
    await repo.write('packages/other/README.md', '# other\n');
    const problems = (await runChangesetCheck(repo.root)).problems;
    expect(problems).toEqual([
      { kind: 'missing', pkg: '@fx/lib', base: expect.stringMatching(/^commit [0-9a-f]{12} \(version 1\.0\.0\)$/), files: ['src/index.ts'] },
      { kind: 'missing', pkg: '@fx/other', base: expect.stringMatching(/^commit /), files: ['README.md'] },
    ]);
  });

  it('passes once a pending changeset names the package; refuses changesets naming private or unknown packages', async () => {
    await repo.write('packages/lib/src/index.ts', 'export const a = 2;\n');
    await repo.write('.changeset/lib-a.md', changeset('"@fx/lib": patch'));
    await repo.commit('lib: a = 2, with its changeset');
    expect((await runChangesetCheck(repo.root)).problems).toEqual([]);

    await repo.write('.changeset/bad.md', changeset('"@fx/app": patch\n"@fx/nope": minor'));
    expect((await runChangesetCheck(repo.root)).problems).toEqual([
      { kind: 'private-package', file: 'bad.md', pkg: '@fx/app' },
      { kind: 'unknown-package', file: 'bad.md', pkg: '@fx/nope' },
    ]);
  });

  it('counts from the commit that set the current version, and from the release tag when the clone has it', async () => {
    await repo.write('packages/lib/src/index.ts', 'export const a = 2;\n');
    await repo.commit('lib: a = 2');
    await repo.write('packages/lib/package.json', '{ "name": "@fx/lib", "version": "1.1.0" }\n');
    const versionCommit = await repo.commit('release: @fx/lib@1.1.0');
    await repo.write('packages/lib/package.json', '{ "name": "@fx/lib", "version": "1.1.0", "description": "d" }\n');
    const laterCommit = await repo.commit('lib: a description');

    const lib = { ...LIB, version: '1.1.0' };
    expect(await releaseBase(repo.root, lib)).toEqual({ ref: versionCommit, description: expect.stringContaining('version 1.1.0') });
    await git(repo.root, ['tag', '@fx/lib@1.1.0', laterCommit]);
    expect(await releaseBase(repo.root, lib)).toEqual({ ref: '@fx/lib@1.1.0', description: 'tag @fx/lib@1.1.0' });
    expect((await runChangesetCheck(repo.root)).problems).toEqual([]);
  });

  it('treats a package whose version no commit has yet as wholly pending', async () => {
    await repo.write('packages/fresh/package.json', '{ "name": "@fx/fresh", "version": "0.0.0" }\n');
    await repo.write('packages/fresh/src/index.ts', 'export {};\n');
    const problems = (await runChangesetCheck(repo.root)).problems;
    expect(problems).toEqual([{ kind: 'missing', pkg: '@fx/fresh', base: 'its creation', files: ['package.json', 'src/index.ts'] }]);
  });

  it('refuses a shallow clone rather than comparing against its graft', async () => {
    await repo.commit('second');
    const clone = await mkdtemp(join(tmpdir(), 'hostnic-release-shallow-'));
    try {
      await execFileAsync('git', ['clone', '--quiet', '--depth=1', `file://${repo.root}`, clone]);
      await expect(releaseBase(clone, LIB)).rejects.toThrow(GitError);
      await expect(releaseBase(clone, LIB)).rejects.toThrow('clone without --depth');
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });

  it('skips, and says so, outside a git checkout', async () => {
    await unlink(join(repo.root, 'node_modules'));
    await rm(join(repo.root, '.git'), { recursive: true });
    const report = await runChangesetCheck(repo.root);
    expect(report).toEqual({ checked: false, changes: [], problems: [] });
  });
});
