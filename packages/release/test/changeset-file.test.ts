import { describe, expect, it } from 'vitest';
import { parseChangeset } from '../src/changeset-file.ts';
import { ChangesetFormatError } from '../src/errors.ts';

describe('parseChangeset', () => {
  it('reads the packages, their bumps and the summary', () => {
    const c = parseChangeset('a.md', '---\n"@hostnic/ipam": minor\n\'@hostnic/netlink\': patch\n---\n\nFaster blocks.\n');
    expect([...c.releases]).toEqual([['@hostnic/ipam', 'minor'], ['@hostnic/netlink', 'patch']]);
    expect(c.summary).toBe('Faster blocks.');
  });

  it('names the file, the line and the fix for bad input', () => {
    expect(() => parseChangeset('b.md', 'no front matter')).toThrow(ChangesetFormatError);
    expect(() => parseChangeset('b.md', '---\n"@hostnic/ipam": huge\n---\n')).toThrow(
      '.changeset/b.md:2: bump of @hostnic/ipam must be patch, minor or major, not "huge"',
    );
    expect(() => parseChangeset('c.md', '---\n"@hostnic/ipam" minor\n---\n')).toThrow('.changeset/c.md:2:');
    expect(() => parseChangeset('d.md', '---\n"@hostnic/ipam": minor\n')).toThrow('no closing "---"');
  });
});
