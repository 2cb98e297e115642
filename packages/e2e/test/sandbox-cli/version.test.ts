/** `hostnic-sandbox --version` through the package's bin, as `npx hostnic-sandbox` runs it (no root needed). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO } from '../../src/stack/index.ts';
import pkg from '../../package.json' with { type: 'json' };

it('hostnic-sandbox --version prints the package version and exits 0', async () => {
  const { stdout } = await promisify(execFile)(join(REPO, 'node_modules/.bin/hostnic-sandbox'), ['--version'], { cwd: REPO });
  expect(stdout).toBe(`${pkg.version}\n`);
});
