import { ReleaseToolError } from './errors.ts';

/** The marker in a README line that names the code block below it as the package test's example. */
export const EXAMPLE_MARKER = '<!-- package-test';

export interface PackageExample {
  readonly code: string;
  /** The example changes network namespaces: it runs only as root (`<!-- package-test: root -->`). */
  readonly needsRoot: boolean;
}

/**
 * The example a package's README marks for the package test: the first fenced `ts` block after a line
 * `<!-- package-test -->` (or `<!-- package-test: root -->`). Exactly one marker per README.
 */
export function extractPackageExample(readme: string, file: string): PackageExample {
  const lines = readme.replace(/\r\n/g, '\n').split('\n');
  const markers = lines.flatMap((l, i) => (l.trim().startsWith(EXAMPLE_MARKER) ? [i] : []));
  if (markers.length !== 1) {
    throw new ReleaseToolError(
      `${file}: needs exactly one "${EXAMPLE_MARKER} -->" line above the runnable example, found ${markers.length}`,
    );
  }
  const at = markers[0] ?? 0;
  const marker = (lines[at] ?? '').trim();
  if (!/^<!-- package-test(?:: root)? -->$/.test(marker)) {
    throw new ReleaseToolError(`${file}:${at + 1}: the marker must be "<!-- package-test -->" or "<!-- package-test: root -->"`);
  }
  const open = lines.findIndex((l, i) => i > at && l.trim().startsWith('```'));
  if (open < 0 || !/^```(?:ts|typescript)$/.test((lines[open] ?? '').trim())) {
    throw new ReleaseToolError(`${file}:${at + 1}: the marker must be followed by a \`\`\`ts block`);
  }
  const close = lines.findIndex((l, i) => i > open && l.trim() === '```');
  if (close < 0) throw new ReleaseToolError(`${file}:${open + 1}: the \`\`\`ts block is never closed`);
  return { code: `${lines.slice(open + 1, close).join('\n')}\n`, needsRoot: marker.includes(': root') };
}
