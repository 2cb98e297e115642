/**
 * Builds the bundle (dist/hostnic) the way `npm run build` does, then installs it with scripts/install.sh
 * into dist/test-bin beside a link to this Node, so every test runs the real artifact as kubelet would.
 */

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildPlugin, PACKAGE_DIR } from '../scripts/build.ts';

export default async function setup(): Promise<void> {
  const { outfile } = await buildPlugin();
  execFileSync('sh', [
    join(PACKAGE_DIR, 'scripts', 'install.sh'),
    '--plugin',
    outfile,
    '--node',
    process.execPath,
    '--dest',
    join(PACKAGE_DIR, 'dist', 'test-bin'),
    '--link-node',
  ]);
}
