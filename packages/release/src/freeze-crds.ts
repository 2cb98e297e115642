import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { crdsOf, type Crd } from './crd-compat.ts';
import { ReleaseToolError } from './errors.ts';

/** The manifest users apply, relative to the repository root. */
export const DEPLOY_MANIFEST = 'deploy/hostnic.yaml';
/** The previous release's CRDs, which the CRD compatibility test holds the current ones to. */
export const FROZEN_CRDS = 'packages/release/test/fixtures/previous-release-crds.yaml';

export function parseManifest(text: string, file: string): unknown[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new ReleaseToolError(`${file}, document ${i + 1}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    return doc.toJS() as unknown;
  });
}

export async function readCrds(root: string, file: string): Promise<Crd[]> {
  return crdsOf(parseManifest(await readFile(join(root, file), 'utf8'), file));
}

/**
 * `npm run freeze-crds -- <release>`: after an image release, makes its CRDs the ones the next release is
 * compared with.
 */
async function main(): Promise<void> {
  const release = process.argv[2];
  if (release === undefined || release.trim() === '') {
    throw new ReleaseToolError('name the release whose CRDs these are: npm run freeze-crds -- v0.1.0');
  }
  const root = process.cwd();
  const crds = await readCrds(root, DEPLOY_MANIFEST);
  const header = `# The CRDs of hostnic ${release}, frozen by "npm run freeze-crds". The CRD compatibility test\n` +
    '# (packages/release/test/crd-compat.test.ts) fails when deploy/hostnic.yaml removes a field of these or\n' +
    '# makes one required without a default. Refresh only after a release.\n';
  await writeFile(join(root, FROZEN_CRDS), header + crds.map((c) => `---\n${stringify(c)}`).join(''));
  console.log(`froze ${crds.length} CRDs of ${release} into ${FROZEN_CRDS}`);
}

if (import.meta.main) await main();
