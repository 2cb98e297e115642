/** The bundles run with nothing from the workspace: copied alone into an empty directory, on Node 22 and 24. */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES } from '../src/bundles.ts';
import { assertNoNodeModulesAbove } from '../src/consumer-project.ts';
import { isolatedEnv } from '../src/env.ts';
import { node22, node24, type NodeRuntime } from '../src/node-runtimes.ts';
import { run } from '../src/run.ts';
import { REPO_ROOT } from './fixture-repo.ts';

let runtimes: NodeRuntime[] = [];
beforeAll(async () => {
  runtimes = [await node22(), node24()];
}, 600_000);

describe.each(BUNDLES)('bundle $name', (bundle) => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `hostnic-bundle-${bundle.name}-`));
    await assertNoNodeModulesAbove(dir);
    for (const f of bundle.files) await copyFile(join(REPO_ROOT, f), join(dir, basename(f)));
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it.each([{ i: 0, node: 22 }, { i: 1, node: 24 }])('runs from a temp directory on Node $node', async ({ i }) => {
    const runtime = runtimes[i];
    if (!runtime) throw new Error(`no runtime #${i}`);
    const { stdout } = await run(runtime.path, [join(dir, bundle.entry)], { cwd: dir, env: isolatedEnv(bundle.env) });
    expect(stdout.trim()).toMatch(bundle.expectStdout);
  });
});
