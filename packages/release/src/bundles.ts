/**
 * The bundles that must run with nothing from the workspace: their files are copied into an empty temp
 * directory and run there with each tested Node. Each app that ships a bundle adds its entry here; the
 * package test (test/bundles.test.ts) picks it up.
 */
export interface BundleCheck {
  readonly name: string;
  /** Files to copy, relative to the repository root; each lands in the temp directory under its base name. */
  readonly files: readonly string[];
  /** The base name of the file to run with `node`. */
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** What a working bundle prints on stdout for that call. */
  readonly expectStdout: RegExp;
}

export const BUNDLES: readonly BundleCheck[] = [
  {
    name: 'cni-plugin',
    files: ['packages/cni-plugin/dist/hostnic', 'packages/cni-plugin/dist/package.json'],
    entry: 'hostnic',
    env: { CNI_COMMAND: 'VERSION' },
    expectStdout: /^\{"cniVersion":"1\.1\.0","supportedVersions":\["0\.3\.0",.*"1\.1\.0"\]\}$/,
  },
];
