import { ChangesetFormatError } from './errors.ts';

export type Bump = 'patch' | 'minor' | 'major';

export interface Changeset {
  /** File name under .changeset/, for messages. */
  readonly file: string;
  readonly releases: ReadonlyMap<string, Bump>;
  readonly summary: string;
}

const BUMPS: ReadonlySet<string> = new Set(['patch', 'minor', 'major']);

/**
 * Parses one changeset: a front matter of `"package": bump` lines between `---` lines, then the summary.
 * This is the format `changeset add` writes; quotes around the name are optional, as for changesets itself.
 */
export function parseChangeset(file: string, text: string): Changeset {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') {
    throw new ChangesetFormatError(`.changeset/${file}: must start with a "---" line (write it with "npx changeset")`);
  }
  const end = lines.indexOf('---', 1);
  if (end < 0) throw new ChangesetFormatError(`.changeset/${file}: the front matter has no closing "---" line`);
  const releases = new Map<string, Bump>();
  for (const [i, raw] of lines.slice(1, end).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^(?:"([^"]+)"|'([^']+)'|([^\s:]+))\s*:\s*(\S+)$/.exec(line);
    const name = m?.[1] ?? m?.[2] ?? m?.[3];
    const bump = m?.[4];
    if (name === undefined || bump === undefined) {
      throw new ChangesetFormatError(`.changeset/${file}:${i + 2}: expected '"@scope/name": patch|minor|major', got ${JSON.stringify(line)}`);
    }
    if (!BUMPS.has(bump)) {
      throw new ChangesetFormatError(`.changeset/${file}:${i + 2}: bump of ${name} must be patch, minor or major, not ${JSON.stringify(bump)}`);
    }
    releases.set(name, bump as Bump);
  }
  return { file, releases, summary: lines.slice(end + 1).join('\n').trim() };
}
