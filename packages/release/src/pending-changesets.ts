import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChangeset, type Changeset } from './changeset-file.ts';

export const CHANGESET_DIR = '.changeset';

/** The pending changesets of the repository at `root`: every .md under .changeset/ but its README. */
export async function readPendingChangesets(root: string): Promise<Changeset[]> {
  const dir = join(root, CHANGESET_DIR);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
  return Promise.all(files.map(async (f) => parseChangeset(f, await readFile(join(dir, f), 'utf8'))));
}
