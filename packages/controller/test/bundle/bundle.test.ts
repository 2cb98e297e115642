/** hostnic-controller as a bundle runs with nothing from the workspace: a temp dir holding only the build output. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToTemp, runIsolated, sourceRevision } from '../../../../scripts/bundle-app.ts';
import pkg from '../../package.json' with { type: 'json' };

describe('hostnic-controller bundle', () => {
  let bundle: Awaited<ReturnType<typeof bundleToTemp>>;
  beforeAll(async () => {
    bundle = await bundleToTemp({ packageDir: resolve(import.meta.dirname, '../..'), entry: 'src/cli.ts', name: 'hostnic-controller', native: [] });
  }, 120_000);
  afterAll(() => bundle.remove());

  it('is one file that answers --help from a directory outside the workspace', async () => {
    expect(await readdir(bundle.dir)).toEqual(['hostnic-controller.mjs']);
    const r = runIsolated(bundle.dir, ['hostnic-controller.mjs', '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hostnic-controller /);
  });

  it('holds no @kubernetes/client-node: the controller reaches the API through the lean client', () => {
    expect(bundle.inputs.length).toBeGreaterThan(100);
    // Workspace packages appear as ../<package>/src/...: the lean client and its informer are in.
    expect(bundle.inputs).toContain('../runtime/src/kube/http/client.ts');
    expect(bundle.inputs).toContain('../runtime/src/kube/http/informer.ts');
    expect(bundle.inputs.filter((f) => f.includes('node_modules/@kubernetes/'))).toEqual([]);
  });

  it('answers --version with the package version and the git revision it was built from', () => {
    const r = runIsolated(bundle.dir, ['hostnic-controller.mjs', '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version} (revision ${sourceRevision(resolve(import.meta.dirname, '../..')) ?? '?'})\n`);
  });
});

describe('the revision a bundle records', () => {
  it('is git\'s short commit id (with -dirty when tracked files changed), HOSTNIC_REVISION when given, none outside git', async () => {
    const packageDir = resolve(import.meta.dirname, '../..');
    const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: packageDir, encoding: 'utf8' }).stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{12}$/);
    expect(sourceRevision(packageDir, {})).toMatch(new RegExp(`^${head}(-dirty)?$`));
    expect(sourceRevision(packageDir, { HOSTNIC_REVISION: 'v0.1.0-rc1' })).toBe('v0.1.0-rc1');
    const outside = await mkdtemp(join(tmpdir(), 'hostnic-no-git-'));
    try {
      expect(sourceRevision(outside, {})).toBeUndefined();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
