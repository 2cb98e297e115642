/** hostnic-iaas as a bundle runs with nothing from the workspace: a temp dir holding only the build output. */
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToTemp, runIsolated, sourceRevision } from '../../../../scripts/bundle-app.ts';
import pkg from '../../package.json' with { type: 'json' };

describe('hostnic-iaas bundle', () => {
  let bundle: Awaited<ReturnType<typeof bundleToTemp>>;
  beforeAll(async () => {
    bundle = await bundleToTemp({ packageDir: resolve(import.meta.dirname, '../..'), entry: 'src/cli.ts', name: 'hostnic-iaas', native: [] });
  }, 120_000);
  afterAll(() => bundle.remove());

  it('is one file that answers --help from a directory outside the workspace', async () => {
    expect(await readdir(bundle.dir)).toEqual(['hostnic-iaas.mjs']);
    const r = runIsolated(bundle.dir, ['hostnic-iaas.mjs', '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hostnic-iaas /);
  });

  it('answers --version with the package version and the git revision it was built from', () => {
    const r = runIsolated(bundle.dir, ['hostnic-iaas.mjs', '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version} (revision ${sourceRevision(resolve(import.meta.dirname, '../..')) ?? '?'})\n`);
  });
});
