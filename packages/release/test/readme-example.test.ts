import { expect, it } from 'vitest';
import { extractPackageExample } from '../src/readme-example.ts';

const readme = (marker: string, fence = '```ts'): string =>
  `# x\n\n\`\`\`ts\nnot this\n\`\`\`\n\n${marker}\n${fence}\nconsole.log(1);\nconsole.log(2);\n\`\`\`\n`;

it('takes the ts block below the marker, and whether it needs root', () => {
  expect(extractPackageExample(readme('<!-- package-test -->'), 'README.md')).toEqual({
    code: 'console.log(1);\nconsole.log(2);\n',
    needsRoot: false,
  });
  expect(extractPackageExample(readme('<!-- package-test: root -->'), 'README.md').needsRoot).toBe(true);
});

it('names the README and the fix when the marker or the block is wrong', () => {
  expect(() => extractPackageExample('# x\n', 'a/README.md')).toThrow('a/README.md: needs exactly one "<!-- package-test -->" line');
  expect(() => extractPackageExample(readme('<!-- package-test -->') + '<!-- package-test -->\n', 'R')).toThrow('found 2');
  expect(() => extractPackageExample(readme('<!-- package-test: sudo -->'), 'R')).toThrow('R:7: the marker must be');
  expect(() => extractPackageExample(readme('<!-- package-test -->', '```sh'), 'R')).toThrow('followed by a ```ts block');
});
